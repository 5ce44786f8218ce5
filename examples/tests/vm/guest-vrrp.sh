#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh, with the ipvlan,
# macvlan, mpls_router, mpls_iptunnel, ila and veth modules) for tests/vm_vrrp.rs:
# keepalived 2.2.7 and keepalived-lite on the same /etc/vrrp.conf, each in
# its own network namespace (k, kl) whose eth0 is one end of a veth with
# the same MAC and addresses in both. Once both are MASTER (their virtual
# addresses are on), once a keepalived 2.2.7 peer of higher priority for
# VI_1 in the namespace at the other end of each veth (kp, klp:
# /etc/peer.conf) has made both's VI_1 BACKUP, and again once both have stopped, the guest
# prints each side's normalised `ip -d link`, `ip -d addr`, `ip -f mpls
# route`, `ip route show table all` (IPv4 and IPv6) and the interfaces'
# arp_ignore, arp_filter, rp_filter, promote_secondaries and disable_ipv6
# between
# "VRRP-VM: BEGIN SIDE STEP" and "VRRP-VM: END SIDE STEP" (SIDE k or kl,
# STEP master, backup or stopped) for the host to compare. Prints "VRRP-VM: ok
# STEP" per step reached.
set -u
mkdir -p /run/netns /etc/keepalived
mount -t tmpfs run /run && mkdir -p /run/netns
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
echo 'tcpdump:x:0:0::/:/bin/sh' >> /etc/passwd
IP=/bin/iproute2-ip

side() { # NAME: a namespace with eth0 (fixed MAC, 10.77.0.1/24, 2001:db8:77::1/64)
    # and eth1 (10.77.1.1/24), and a peer namespace NAMEp on the other end of
    # both veths (10.77.0.2/24 on eth0)
    $IP netns add "$1" || exit 1
    $IP netns add "$1p" || exit 1
    $IP -n "$1p" link add eth0 type veth peer name eth0 netns "$1" || exit 1
    $IP -n "$1p" link set eth0 address 02:00:00:00:77:02
    $IP -n "$1p" link set eth0 up
    $IP -n "$1p" addr add 10.77.0.2/24 dev eth0
    $IP -n "$1p" link add eth1 type veth peer name eth1 netns "$1" || exit 1
    $IP -n "$1p" link set eth1 up
    $IP -n "$1" link set eth1 address 02:00:00:00:78:01
    $IP -n "$1" link set eth1 up
    $IP -n "$1" addr add 10.77.1.1/24 dev eth1
    $IP -n "$1" link set lo up
    $IP -n "$1" link set eth0 address 02:00:00:00:77:01
    $IP -n "$1" link set eth0 up
    $IP -n "$1" addr add 10.77.0.1/24 dev eth0
    $IP -n "$1" addr add 2001:db8:77::1/64 dev eth0 nodad
    $IP netns exec "$1" sysctl -qw net.mpls.platform_labels=1000
}

# The state that may differ between two namespaces for no fault of either
# daemon: interface indexes, the veth's peer, IPv6 address lifetimes.
normalise() {
    sed -e 's/^[0-9][0-9]*: /N: /' -e 's/@if[0-9][0-9]*/@ifN/' \
        -e 's/ link-netns[a-z]* [^ ]*//' -e 's/ altname [^ ]*//'
}

cat > /etc/peer.conf <<'CONF'
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 200
  advert_int 1
  virtual_ipaddress {
    10.77.0.100/24
    10.77.1.100/24 dev eth1
  }
}
vrrp_instance VI_5 {
  interface eth0
  virtual_router_id 65
  priority 200
  advert_int 1
  use_ipvlan 2001:db8:77::7/64 private
  virtual_ipaddress {
    2001:db8:77::105/64
  }
}
CONF

dump() { # SIDE STEP
    echo "VRRP-VM: BEGIN $1 $2"
    echo "## ip -d link"; $IP -n "$1" -d link show | normalise
    echo "## ip -d addr"; $IP -n "$1" -d addr show | normalise
    echo "## ip -f mpls route"; $IP -n "$1" -f mpls route show
    echo "## ip route show table all"; $IP -n "$1" route show table all
    echo "## ip -6 route show table all"; $IP -n "$1" -6 route show table all
    if [ "$2" = master ]; then # the IPv6 adverts' sources, seen by the peer
        echo "## IPv6 adverts"
        wait "$(cat "/tmp/$1.capture")"
        tcpdump -Z root -n -r "/tmp/$1.pcap" 2>/dev/null |
            sed -n 's/.* \([0-9a-f:]*\) > ff02::12: VRRPv3, Advertisement, vrid \([0-9]*\).*/vrid \2 from \1/p' |
            sort -u
    fi
    echo "## sysctls"; $IP netns exec "$1" sh -c '
        for c in /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_filter \
                 /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/promote_secondaries \
                 /proc/sys/net/ipv6/conf/*/disable_ipv6; do
            echo "$c $(cat $c)"
        done'
    echo "VRRP-VM: END $1 $2"
}

wait_for() { # WHAT COMMAND...: polls COMMAND for up to 120 s (TCG is slow)
    what="$1"; shift
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -ge 240 ]; then
            echo "VRRP-VM: FAIL $what"
            echo "--- keepalived log"; cat /tmp/k.log
            echo "--- keepalived-lite log"; cat /tmp/kl.log
            exit 1
        fi
        sleep 0.5
    done
}

vip_on() { # SIDE: VI_1's virtual addresses are on (and VI_2's to VI_5's)
    a="$($IP -n "$1" addr show)"
    for v in 'inet 10.77.0.100/24' 'inet 10.77.1.100/24' 'inet 10.77.0.101/24' \
        'inet6 2001:db8:78::100/64' 'inet6 2001:db8:77::101/64' 'inet6 2001:db8:77::105/64'; do
        echo "$a" | grep -q "$v" || return 1
    done
}
peer_won() { # SIDE: VI_1's and VI_5's virtual addresses are off (the peer's
    # VI_5 multicasts from a global address)
    a="$($IP -n "$1" addr show)"
    ! echo "$a" | grep -q 'inet 10.77.0.100/24' && ! echo "$a" | grep -q 'inet6 2001:db8:77::105/64'
}
gone() { # SIDE: the ipvlans and VI_1's address VMAC are gone
    for l in ipv1 vrrp.52 ipv6a vrrp.62 vrrp.51 vrrp.65; do
        ! $IP -n "$1" link show dev $l || return 1
    done
}

side k
side kl
$IP netns exec k keepalived -P -n -l -D -f /etc/vrrp.conf -p /run/k.pid -r /run/kv.pid \
    > /tmp/k.log 2>&1 &
k=$!
$IP netns exec kl keepalived-lite -P -n -l -f /etc/vrrp.conf -p /run/kl.pid -r /run/klv.pid \
    > /tmp/kl.log 2>&1 &
kl=$!
wait_for "keepalived MASTER" vip_on k
wait_for "keepalived-lite MASTER" vip_on kl
echo "VRRP-VM: ok master"
for s in k kl; do # 4 s of the IPv6 adverts each peer sees, while dumping
    $IP netns exec ${s}p timeout 4 tcpdump -Z root -n -i eth0 -w "/tmp/$s.pcap" \
        'ip6 proto 112' 2>/dev/null &
    echo $! > "/tmp/$s.capture"
done
dump k master
dump kl master
for p in kp klp; do
    $IP netns exec $p keepalived -P -n -l -f /etc/peer.conf -p /run/$p.pid -r /run/${p}v.pid \
        > /tmp/$p.log 2>&1 &
done
wait_for "keepalived BACKUP" peer_won k
wait_for "keepalived-lite BACKUP" peer_won kl
echo "VRRP-VM: ok backup"
dump k backup
dump kl backup
kill -TERM $k $kl
wait_for "keepalived stopped" gone k
wait_for "keepalived-lite stopped" gone kl
wait $k $kl
echo "VRRP-VM: ok stopped"
dump k stopped
dump kl stopped
kill -TERM $(cat /run/kp.pid /run/klp.pid)
echo "--- keepalived log"; cat /tmp/k.log
echo "--- keepalived-lite log"; cat /tmp/kl.log
echo "VRRP-VM: done"
