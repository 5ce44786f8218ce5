#!/usr/bin/env bash
# CPU per scrape of keepalived-lite's metrics endpoint at 1,000 instances
# (the configuration of vrrp-instances.sh: 4 veths x 250 VRIDs, MASTER,
# PASS, advert_int 1), in a namespace of its own: perf task-clock of the
# daemon over 20 s unscraped, then over N curl scrapes back to back; per
# scrape = (CPU during the scrapes - idle rate x their duration) / N, and
# what that adds at one scrape per 15 s. With PERF_DATA, also a perf
# profile of the scrapes.
#
# Needs root, iproute2, perf, curl and a release build.
# Usage: benches/scale/metrics-cost.sh [BINARY] [N] [PERF_DATA]
set -euo pipefail
cd "$(dirname "$0")/../.."
lite=${1:-$PWD/target/release/keepalived-lite}; n=${2:-200}; prof=${3:-}
ns=kmcost$$; peer=$ns-p; work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill $pid 2>/dev/null; sleep 1; ip netns del $ns 2>/dev/null; ip netns del $peer 2>/dev/null; rm -rf $work; }
trap cleanup EXIT
ip netns add $ns; ip netns add $peer; ip -n $ns link set lo up
for k in 0 1 2 3; do
  ip -n $ns link add veth$k type veth peer name peer$k netns $peer
  ip -n $ns addr add 192.168.$((k+1)).1/24 dev veth$k
  ip -n $ns link set veth$k up; ip -n $peer link set peer$k up
done
{ printf 'global_defs {\n router_id P\n}\n'
  for k in 0 1 2 3; do for v in $(seq 1 250); do
    printf 'vrrp_instance VI_%d_%d {\n state MASTER\n interface veth%d\n virtual_router_id %d\n priority 200\n advert_int 1\n authentication {\n auth_type PASS\n auth_pass p%d_%d\n }\n virtual_ipaddress {\n 10.%d.0.%d/32\n }\n}\n' $k $v $k $v $k $v $((100+k)) $v
  done; done; } > $work/k.conf
ip netns exec $ns $lite -P -f $work/k.conf -p $work/p -r $work/r --control-socket $work/s --metrics-listen 127.0.0.1:9650 > $work/log 2>&1 &
pid=$!
# Start-up and the first adverts.
sleep 15
ip netns exec $ns curl -s -o /dev/null http://127.0.0.1:9650/metrics
perf stat -e task-clock -x, -o $work/idle -p $pid -- sleep 20
if [[ -n $prof ]]; then
  perf record -F 4999 -g -p $pid -o "$prof" -- sleep 1000 2>/dev/null & rec=$!
fi
t0=$EPOCHREALTIME
perf stat -e task-clock -x, -o $work/busy -p $pid -- bash -c "sleep 0.5; for i in \$(seq $n); do ip netns exec $ns curl -s -o /dev/null http://127.0.0.1:9650/metrics; done; sleep 0.5"
t1=$EPOCHREALTIME
[[ -n $prof ]] && { kill -- $(pgrep -P $rec sleep); wait $rec || true; }
idle=$(awk -F, '$3 ~ /task-clock/ { print $1 }' $work/idle)
busy=$(awk -F, '$3 ~ /task-clock/ { print $1 }' $work/busy)
awk -v i="$idle" -v b="$busy" -v t0="$t0" -v t1="$t1" -v n="$n" 'BEGIN {
  d = t1 - t0; rate = i / 20.0;
  per = (b - rate * d) / n;
  printf "idle %.1f ms/s; %d scrapes in %.1f s: %.1f ms CPU, %.2f ms per scrape; at 4 scrapes/min: +%.1f%%\n", rate, n, d, b, per, per * 4 * 100 / (rate * 60) }'
