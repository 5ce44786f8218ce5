#!/usr/bin/env bash
# Benchmark of `ipvsctl` against ipvsadm in the IPVS test VM, both in the
# same boot: restore of SERVICES services x 4 destinations (`ipvsadm -R`
# vs `ipvsctl restore`), then save (`ipvsadm -S -n` vs `ipvsctl save`,
# outputs compared byte for byte). Prints one line per measurement and the
# ratios. Times come from the guest's /proc/uptime (10 ms resolution).
#
# usage: ipvs/vm/bench.sh [SERVICES (default 10000)] [ROUNDS (default 3)]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
services="${1:-10000}"
rounds="${2:-3}"
(cd "$root" && cargo build -q --release -p keepalived-lite --bin ipvsctl)
ipvsctl="$root/target/release/ipvsctl"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
awk -v n="$services" 'BEGIN {
  for (i = 0; i < n; i++) {
    a = int(i / 250); b = i % 250 + 1
    svc = sprintf("-t 10.%d.%d.1:80", a, b)
    printf "-A %s -s wlc\n", svc
    for (j = 1; j <= 4; j++) printf "-a %s -r 172.%d.%d.%d:8080 -m -w %d\n", svc, 16 + j, a, b, j
  }
}' > "$work/rules"
cat > "$work/guest.sh" <<'GUEST'
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rounds="$1"
echo "BENCH lines=$(wc -l < /rules)"
r=1
while [ "$r" -le "$rounds" ]; do
  ipvsadm -C
  t0=$(now); ipvsadm -R < /rules; t1=$(now)
  a=$(elapsed "$t0" "$t1")
  t0=$(now); ipvsadm -S -n > /tmp/a.txt; t1=$(now)
  sa=$(elapsed "$t0" "$t1")
  t0=$(now); ipvsctl save > /tmp/b.txt; t1=$(now)
  sb=$(elapsed "$t0" "$t1")
  cmp -s /tmp/a.txt /tmp/b.txt && same=identical || same=DIFFERENT
  ipvsadm -C
  t0=$(now); ipvsctl restore < /rules; t1=$(now)
  b=$(elapsed "$t0" "$t1")
  cmp -s /tmp/a.txt <(ipvsadm -S -n) 2>/dev/null || true
  ipvsadm -S -n > /tmp/c.txt
  cmp -s /tmp/a.txt /tmp/c.txt && rsame=identical || rsame=DIFFERENT
  echo "BENCH round=$r restore ipvsadm=${a}s ipvsctl=${b}s ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') table=$rsame"
  echo "BENCH round=$r save ipvsadm=${sa}s ipvsctl=${sb}s ratio=$(awk -v a="$sa" -v b="$sb" 'BEGIN { printf "%.3f", b / a }') output=$same"
  r=$((r + 1))
done
GUEST
"$here/run-vm.sh" --timeout 1800 --file "$ipvsctl:/bin/ipvsctl" --file "$work/rules:/rules" \
  "$work/guest.sh" "$rounds" | tr -d '\r' | grep -E '^(BENCH|IPVS-VM)'
