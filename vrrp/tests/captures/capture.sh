#!/usr/bin/env bash
# Records real keepalived 2.2.7 VRRP traffic for the codec's test vectors.
# Usage (root): capture.sh none|pass|ah|ah-unicast|v3|v3-unicast|v3-ipv6 OUT.pcap
# Topology: namespaces r1, r2 (keepalived) and obs (tcpdump), each with an
# eth0 veth to a bridge in namespace sw; 10.0.0.1, .2, .3/24 and, for IPv6,
# fe80::1, ::2, ::3/64 and 2001:db8::1, ::2, ::3/64 (fixed, no DAD, so the
# link-local sources are the same on every run).
# ah-unicast: AH between unicast peers (unicast_src_ip/unicast_peer); the
# bridge only delivers unicast to its target, so tcpdump runs in r2 instead
# of obs and records both directions (v3-unicast too).
# v3: `version 3` in the instance. v3-ipv6: IPv6 virtual addresses and no
# version keyword (keepalived defaults IPv6 instances to version 3),
# advert_int 0.5 (50 centiseconds on the wire).
# Timeline: tcpdump starts; r1 (priority 150) and r2 (100) start; r1 wins and
# advertises; after 6 s r1 gets SIGTERM (a priority-0 advert), r2 takes over
# and advertises; after 3 s more everything stops.
set -euo pipefail
mode=$1 out=$2
id=$$
dir=$(mktemp -d)
sw=kcsw$id r1=kcr1$id r2=kcr2$id obs=kcob$id
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in $r1 $r2 $obs $sw; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

ip netns add $sw
ip -n $sw link add br0 type bridge
# No MLD querier here: without snooping ff02::12 simply floods.
ip -n $sw link set br0 type bridge mcast_snooping 0
ip -n $sw link set br0 up
i=1
for ns in $r1 $r2 $obs; do
  ip netns add "$ns"
  ip -n $sw link add "p$i" type veth peer name eth0 netns "$ns"
  ip -n $sw link set "p$i" master br0 up
  ip -n "$ns" addr add "10.0.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 addrgenmode none
  ip -n "$ns" addr add "fe80::$i/64" dev eth0 nodad
  ip -n "$ns" addr add "2001:db8::$i/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  i=$((i + 1))
done

case $mode in
  none) auth="" ;;
  pass) auth=$'authentication {\n    auth_type PASS\n    auth_pass passw0rd-too-long\n  }' ;;
  ah | ah-unicast) auth=$'authentication {\n    auth_type AH\n    auth_pass secret1\n  }' ;;
  v3 | v3-unicast) auth=$'version 3' ;;
  v3-ipv6) auth="" ;;
  *) echo "mode: none|pass|ah|ah-unicast|v3|v3-unicast|v3-ipv6" >&2; exit 2 ;;
esac
vips=$'10.0.0.100/24\n    10.0.0.101/24' adv=1
if [ "$mode" = v3-ipv6 ]; then
  vips=$'fe80::100/64\n    2001:db8::100/64' adv=0.5
fi
for r in 1 2; do
  prio=$([ $r = 1 ] && echo 150 || echo 100)
  peers=""
  if [ "$mode" = ah-unicast ] || [ "$mode" = v3-unicast ]; then
    peers=$'unicast_src_ip 10.0.0.'$r$'\n  unicast_peer {\n    10.0.0.'$((3 - r))$'\n  }'
  fi
  cat >"$dir/r$r.conf" <<CONF
global_defs {
  router_id r$r
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $prio
  advert_int $adv
  $auth
  $peers
  virtual_ipaddress {
    $vips
  }
}
CONF
done

cap_ns=$obs
case $mode in ah-unicast | v3-unicast) cap_ns=$r2 ;; esac
ip netns exec "$cap_ns" tcpdump -i eth0 -U -w "$out" \
  'ip proto 112 or ip proto 51 or ip6 proto 112' 2>/dev/null &
pids+=($!)
sleep 1
for r in 1 2; do
  ns_var=r$r
  ip netns exec "${!ns_var}" keepalived -P -n -l -f "$dir/r$r.conf" \
    -p "$dir/r$r.pid" -r "$dir/r$r.vrrp.pid" >"$dir/r$r.log" 2>&1 &
  pids+=($!)
  eval "k$r=$!"
done
sleep 6
kill -TERM "$k1"
sleep 3
kill -TERM "$k2"
sleep 1
# Keep the logs next to the capture (they show the configs were accepted).
cat "$dir/r1.log" "$dir/r2.log" >"${out%.pcap}.log"
