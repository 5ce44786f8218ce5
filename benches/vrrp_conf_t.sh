#!/usr/bin/env bash
# vrrp-conf parsing benchmark: `keepalived-lite -t` against `keepalived -t`
# on the same generated configuration (200 vrrp_instances, 10,000
# virtual_servers of 4 real_servers each, about 6.7 MB), side by side in
# one hyperfine run, plus peak RSS from /usr/bin/time -v.
#
# Both run in a fresh network namespace holding eth0, the one interface the
# configuration names, so keepalived does no host-dependent work that
# keepalived-lite skips. Needs root, keepalived 2.2.x and hyperfine.
# Usage: benches/vrrp_conf_t.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release -q -p keepalived-lite --bin keepalived-lite --bin gen-conf
conf=$(mktemp --suffix=.conf)
ns="kl-bench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -f "$conf"; }
trap cleanup EXIT
target/release/gen-conf > "$conf"
echo "config: $(stat -c %s "$conf") bytes, $(wc -l < "$conf") lines"
ip netns add "$ns"
ip -n "$ns" link add eth0 type veth peer name peth0
ip -n "$ns" link set eth0 up
lite="ip netns exec $ns $PWD/target/release/keepalived-lite -t -f $conf"
real="ip netns exec $ns keepalived -t -f $conf"
# Both must accept the file, or the comparison means nothing.
$real && $lite 2>/dev/null
json=$(mktemp --suffix=.json)
hyperfine -N -w 3 -r "$runs" --export-json "$json" \
  -n "keepalived -t" "$real" -n "keepalived-lite -t" "$lite"
# Medians resist the outliers a shared machine produces.
python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
k, l = r["keepalived -t"]["median"], r["keepalived-lite -t"]["median"]
print(f"median: keepalived -t {k*1e3:.1f} ms, keepalived-lite -t {l*1e3:.1f} ms, ratio {l/k:.3f}")
PY
rm -f "$json"
for c in "$real" "$lite"; do
  rss=$(/usr/bin/time -v $c 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
  echo "peak RSS ${rss} KiB: ${c%% -f*}"
done
