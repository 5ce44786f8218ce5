#!/usr/bin/env bash
# Boots Debian's cloud kernel (which ships the ip_vs modules) under qemu/TCG
# with a throw-away initramfs, runs one guest script, and prints the guest's
# console on stdout. Fails loudly when any prerequisite is missing.
#
# usage: run-vm.sh [--timeout SECS] [--file SRC[:DST]]... [--module NAME]...
#                  [--smtp-forward PORT]
#                  GUEST_SCRIPT [ARGS...]
#   --file      copy SRC (an executable or data file) to DST in the guest
#               (default /bin/$(basename SRC)); executables get their
#               shared libraries (from ldd) too.
#   --module    also load kernel module NAME (with its dependencies),
#               e.g. ipvlan, mpls_iptunnel, ila.
#   --smtp-forward  give the guest eth0 (10.0.2.15/24, virtio) on a
#               restricted user-mode network whose only way out is
#               10.0.2.100:25, forwarded to the host's 127.0.0.1:PORT
#               (one busybox nc per connection). Without it the guest has
#               no network card at all.
#   GUEST_SCRIPT  shell script run by the guest's init after the IPVS
#               modules are loaded and lo is up; ARGS are passed on.
# env: IPVS_VM_CACHE (default <workspace>/target/ipvs-vm) caches the kernel.
#      IPVS_VM_MEM (default 1024) guest memory in MiB.
# The guest prints "IPVS-VM: exit <status>" as its last line; this script
# exits with that status (or 90+ when the VM itself failed).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${IPVS_VM_CACHE:-$root/target/ipvs-vm}"
timeout_s=600
files=()
modules=()
smtp_port=
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s="$2"; shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --module) modules+=("$2"); shift 2 ;;
    --smtp-forward) smtp_port="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "run-vm: missing GUEST_SCRIPT" >&2; exit 94; }
guest_script="$1"; shift
case "$smtp_port" in
  '') ;;
  *[!0-9]*) echo "run-vm: --smtp-forward takes a port number" >&2; exit 94 ;;
esac

die() { echo "run-vm: $*" >&2; exit 95; }
for tool in qemu-system-x86_64 cpio gzip apt-cache apt-get dpkg strings ldd flock timeout; do
  command -v "$tool" >/dev/null || die "required tool '$tool' not found (run .ci/install-deps)"
done
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || die "busybox-static not installed"
busybox="$(command -v busybox)"
case "$(ldd "$busybox" 2>&1 || true)" in *"not a dynamic"*) ;; *) die "$busybox is not static: install busybox-static" ;; esac
ipvsadm="$(command -v ipvsadm || true)"
[ -n "$ipvsadm" ] || die "ipvsadm not installed"

# 1. The kernel package, downloaded once into the cache.
mkdir -p "$cache"
pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
[ -n "$pkg" ] || die "apt-cache cannot resolve linux-image-cloud-amd64 (run apt-get update)"
kdir="$cache/$pkg"
# One download/extraction at a time (tests may run in parallel).
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$kdir/.extracted" ]; then
  ( cd "$cache" && ls "$pkg"_*.deb >/dev/null 2>&1 || apt-get download -q "$pkg" >&2 ) \
    || die "apt-get download $pkg failed"
  rm -rf "$kdir"; mkdir -p "$kdir"
  dpkg -x "$(ls "$cache/$pkg"_*.deb | head -n1)" "$kdir" || die "dpkg -x failed"
  touch "$kdir/.extracted"
fi
flock -u 9
vmlinuz="$(ls "$kdir"/boot/vmlinuz-* | head -n1)"
moddir="$(ls -d "$kdir"/lib/modules/* | head -n1)"
kver="$(basename "$moddir")"

# 2. The initramfs tree.
work="$(mktemp -d "${TMPDIR:-/tmp}/ipvs-vm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tree="$work/root"
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,tmp,etc,modules}
cp "$busybox" "$tree/bin/busybox"

copy_with_libs() { # SRC DST
  install -D -m 0755 "$1" "$tree$2"
  # A script has no libraries: ldd and grep fail, which is fine.
  { ldd "$1" 2>/dev/null || true; } | { grep -oE '/[^ ]+\.so[^ ]*' || true; } | while read -r lib; do
    [ -f "$tree$lib" ] || install -D -m 0755 "$lib" "$tree$lib"
  done
}
copy_with_libs "$ipvsadm" /sbin/ipvsadm
for spec in "${files[@]+"${files[@]}"}"; do
  src="${spec%%:*}"; dst="/bin/$(basename "$src")"
  [ "$spec" != "$src" ] && dst="${spec#*:}"
  [ -e "$src" ] || die "--file $src does not exist"
  if [ -x "$src" ]; then copy_with_libs "$src" "$dst"; else install -D -m 0644 "$src" "$tree$dst"; fi
done
install -m 0755 "$guest_script" "$tree/guest.sh"

# Modules: ip_vs, every scheduler / helper / persistence engine, and the
# transitive closure of their dependencies, in load order.
modpath() { # NAME -> path of NAME.ko(.xz|.zst) under the package
  find "$moddir/kernel" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" \) | head -n1
}
moddeps() { # FILE -> comma separated deps
  local f="$1"
  case "$f" in
    *.xz) xz -dc "$f" | strings -a ;;
    *.zst) zstd -dc "$f" | strings -a ;;
    *) strings -a "$f" ;;
  esac | sed -n 's/^depends=//p' | head -n1
}
order=()
declare -A seen=()
visit() {
  local name="$1" f dep
  [ -n "${seen[$name]+x}" ] && return 0
  seen[$name]=1
  f="$(modpath "$name")"
  [ -n "$f" ] || die "module $name not found in $pkg"
  for dep in $(moddeps "$f" | tr ',' ' '); do visit "$dep"; done
  order+=("$name")
}
# libcrc32c's soft dependency first, when it is a module at all.
[ -n "$(modpath crc32c_generic)" ] && visit crc32c_generic
for f in $(find "$moddir/kernel/net/netfilter/ipvs" -name 'ip_vs*.ko*' | sort); do
  n="$(basename "$f")"; visit "${n%%.ko*}"
done
# Modules asked for (--module).
for name in "${modules[@]+"${modules[@]}"}"; do visit "$name"; done
# The network card, only when asked for.
if [ -n "$smtp_port" ]; then
  visit virtio_pci
  visit virtio_net
fi
: > "$tree/modules/order"
for name in "${order[@]}"; do
  f="$(modpath "$name")"
  case "$f" in
    *.xz) xz -dc "$f" > "$tree/modules/$name.ko" ;;
    *.zst) zstd -dc "$f" > "$tree/modules/$name.ko" ;;
    *) cp "$f" "$tree/modules/$name.ko" ;;
  esac
  echo "$name" >> "$tree/modules/order"
done

cat > "$tree/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
for m in $(cat /modules/order); do
  insmod /modules/$m.ko || echo "IPVS-VM: insmod $m failed"
done
ip link set lo up
if [ -e /smtp-forward ]; then
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 \
    || echo "IPVS-VM: eth0 MISSING"
fi
echo "IPVS-VM: booted $(uname -r), $(ls /proc/net/ip_vs >/dev/null 2>&1 && echo ip_vs loaded || echo ip_vs MISSING)"
sh /guest.sh $(cat /guest.args)
echo "IPVS-VM: exit $?"
poweroff -f
INIT
chmod 0755 "$tree/init"
printf '%s ' "$@" > "$tree/guest.args"
nic=(-nic none)
if [ -n "$smtp_port" ]; then
  touch "$tree/smtp-forward"
  # restrict=on: the guest reaches nothing but the forward below.
  nic=(-nic "user,model=virtio-net-pci,restrict=on,guestfwd=tcp:10.0.2.100:25-cmd:$busybox nc 127.0.0.1 $smtp_port")
fi
( cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$work/initrd.gz"

# 3. Boot. Console on stdout; the status comes from the guest's last line.
log="$work/console.log"
set +e
timeout --foreground "$timeout_s" qemu-system-x86_64 -accel tcg -m "${IPVS_VM_MEM:-1024}" \
  -smp 1 -nographic -no-reboot "${nic[@]}" \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 kver=$kver" < /dev/null 2>&1 | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e
[ "$qemu_status" = 124 ] && { echo "run-vm: VM timed out after ${timeout_s}s" >&2; exit 92; }
status="$(tr -d '\r' < "$log" | sed -n 's/^IPVS-VM: exit \([0-9]*\)$/\1/p' | tail -n1)"
[ -n "$status" ] || { echo "run-vm: guest did not report an exit status (qemu status $qemu_status)" >&2; exit 93; }
exit "$status"
