#!/usr/bin/env bash
# Benchmark of `ipvsctl` against ipvsadm in the IPVS test VM, both in the
# same boot and on the same input: restore of SERVICES services x 4
# destinations (`ipvsadm -R` vs `ipvsctl restore`), and save of that table
# (`ipvsadm -S -n` vs `ipvsctl save`, outputs compared byte for byte).
#
# Every restore runs in a fresh network namespace (`unshare -n`, held open
# by a sleeping process so no teardown runs while timing): IPVS keeps
# deleted destinations in a per-namespace trash list that later additions
# scan, so restoring after a flush in one namespace would favour whichever
# tool ran first. The `phases` example then splits ipvsctl's
# work into parse / encode / apply / dumps / format, to show how much of
# each operation is the kernel's own work. Times come from the guest's
# /proc/uptime (10 ms resolution).
#
# usage: ipvs/vm/bench.sh [SERVICES (default 10000)] [ROUNDS (default 3)]
#                         [LAYOUT: spread (default) | onebucket | mixed]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
services="${1:-10000}"
rounds="${2:-3}"
layout="${3:-spread}"
(cd "$root" && cargo build -q --release -p keepalived-lite --bin ipvsctl \
  && cargo build -q --release -p linux-ipvs --example phases)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
awk -v n="$services" -v layout="$layout" '
# The mixed layout: consecutive addresses as in spread, 4 destinations per
# service, but every kind of service and destination ipvsadm -S prints:
# 1/10 IPv6 and 1/10 fwmark services (some of those IPv6), TCP and UDP,
# four schedulers, 1/4 persistent (half of those with a netmask), NAT for
# 3/5 of the services, DR for 1/5, tunnels for 1/5 (ipip, gue with a port
# and checksum option, gre), weights 0-9 and thresholds on 1/3 of them.
function v4(first, x) { return sprintf("%d.%d.%d.%d", first, int(x / 65536) + (first == 172 ? 16 : 0), int(x / 256) % 256, x % 256) }
function v6(pre, x) { return sprintf("%s::%x:%x", pre, int(x / 65536), x % 65536) }
function mixed(i, v,    kind, six, svc, opts, fwd, j, r, ra, d, s) {
  kind = i % 10; six = (kind == 0 || (kind == 1 && i % 20 == 11))
  if (kind == 1) svc = sprintf("-f %d%s", v, six ? " -6" : "")
  else if (six) svc = sprintf("-%s [%s]:%d", i % 4 == 0 ? "t" : "u", v6("2001:db8", v), 80)
  else svc = sprintf("-%s %s:%d", i % 3 == 2 ? "u" : "t", v4(10, v), i % 3 == 2 ? 53 : 80)
  split("wlc rr wrr lc", s, " ")
  opts = " -s " s[i % 4 + 1]
  if (i % 4 == 3) opts = opts " -p 300" (i % 8 == 7 ? (six ? " -M 64" : " -M 255.255.255.0") : "")
  printf "-A %s%s\n", svc, opts
  fwd = (i + int(i / 10)) % 5
  for (j = 0; j < 4; j++) {
    r = 4 * i + j + 1
    ra = six ? "[" v6("2001:db8:1", r) "]" : v4(172, r)
    # ipvsadm takes a bracketed IPv6 address only with a port.
    if (kind != 1 || six) ra = ra ":8080"
    if (fwd <= 2) d = "-m"
    else if (fwd == 3) d = "-g"
    else if (six || j < 2) d = "-i"
    else if (j == 2) d = "-i --tun-type gue --tun-port 6080 --tun-csum"
    else d = "-i --tun-type gre --tun-nocsum"
    d = d " -w " (i + j) % 10
    if ((i + j) % 3 == 0) d = d " -x " 100 + j " -y " 10 + j
    printf "-a %s -r %s %s\n", svc, ra, d
  }
}
BEGIN {
  for (i = 0; i < n; i++) {
    if (layout == "onebucket") {
      # Every virtual address ends in .1, so every service lands in the
      # same bucket of the 256-bucket service hash in the kernel (it hashes the
      # low byte of the address), and each lookup walks all of them.
      a = int(i / 250); b = i % 250 + 1
      svc = sprintf("-t 10.%d.%d.1:80", a, b)
      printf "-A %s -s wlc\n", svc
      for (j = 1; j <= 4; j++) printf "-a %s -r 172.%d.%d.%d:8080 -m -w %d\n", svc, 16 + j, a, b, j
      continue
    }
    v = i + 1
    if (layout == "mixed") { mixed(i, v); continue }
    # Consecutive virtual and real addresses, as allocated from a pool.

    svc = sprintf("-t 10.%d.%d.%d:80", int(v / 65536), int(v / 256) % 256, v % 256)
    printf "-A %s -s wlc\n", svc
    for (j = 0; j < 4; j++) {
      r = 4 * i + j + 1
      printf "-a %s -r 172.%d.%d.%d:8080 -m -w %d\n", svc, 16 + int(r / 65536), int(r / 256) % 256, r % 256, j + 1
    }
  }
}' > "$work/rules"
cat > "$work/guest.sh" <<'GUEST'
# Each restore goes into its own fresh network namespace, held open by a
# sleeping process so that no namespace teardown runs during a measurement.
# The host is shared and noisy, so every measurement is repeated (restores
# once per round, saves three times per round, alternating tools) and the
# ratios use the minimum of each tool's times.
rounds="$1"
now() { cut -d' ' -f1 /proc/uptime; }
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
fresh_ns() { unshare -n sleep 100000 & sleep 1; nsenter -t $! -n ip link set lo up; NS=$!; }
# Untimed: empty a namespace and let it go, so that no earlier table's
# rate estimators (the kernel walks each one every 2 s) load later rounds.
drop_ns() { nsenter -t "$1" -n ipvsadm -C; kill "$1"; sleep 2; }
: > /tmp/times
r=1
while [ "$r" -le "$rounds" ]; do
  fresh_ns; NA=$NS; A="nsenter -t $NS -n"
  t0=$(now); $A ipvsadm -R < /rules; t1=$(now); echo "restore ipvsadm $(span "$t0" "$t1")" >> /tmp/times
  fresh_ns; NB=$NS; B="nsenter -t $NS -n"
  t0=$(now); $B ipvsctl restore < /rules; t1=$(now); echo "restore ipvsctl $(span "$t0" "$t1")" >> /tmp/times
  $A ipvsadm -S -n > /tmp/a; $B ipvsadm -S -n > /tmp/c
  cmp -s /tmp/a /tmp/c && echo "BENCH round=$r restored tables identical" || echo "BENCH round=$r restored tables DIFFERENT"
  for i in 1 2 3; do
    t0=$(now); $A ipvsadm -S -n > /tmp/a; t1=$(now); echo "save ipvsadm $(span "$t0" "$t1")" >> /tmp/times
    t0=$(now); $A ipvsctl save > /tmp/b; t1=$(now); echo "save ipvsctl $(span "$t0" "$t1")" >> /tmp/times
    cmp -s /tmp/a /tmp/b && echo "BENCH round=$r save output identical" || echo "BENCH round=$r save output DIFFERENT"
  done
  drop_ns "$NA"; drop_ns "$NB"
  fresh_ns
  nsenter -t $NS -n phases < /rules | sed "s/^/BENCH round=$r /"
  drop_ns "$NS"
  r=$((r + 1))
done
sed 's/^/BENCH time /' /tmp/times
awk '{ k = $1 " " $2; if (!(k in min) || $3 < min[k]) min[k] = $3 }
  END {
    printf "BENCH min restore ipvsadm=%.2fs ipvsctl=%.2fs ratio=%.3f\n", min["restore ipvsadm"], min["restore ipvsctl"], min["restore ipvsctl"] / min["restore ipvsadm"]
    printf "BENCH min save ipvsadm=%.2fs ipvsctl=%.2fs ratio=%.3f\n", min["save ipvsadm"], min["save ipvsctl"], min["save ipvsctl"] / min["save ipvsadm"]
  }' /tmp/times
GUEST
"$here/run-vm.sh" --timeout 3000 --file "$root/target/release/ipvsctl:/bin/ipvsctl" \
  --file "$root/target/release/examples/phases:/bin/phases" --file "$work/rules:/rules" \
  "$work/guest.sh" "$rounds" | tr -d '\r' | grep -E '^(BENCH|IPVS-VM)'
