#!/bin/sh
# Runs inside the ipvs test VM: keepalived-lite runs VRRP and the checker
# together (no -P/-C); SIGTERM stops both. Prints "LVS-VM: ok STEP".
set -u
fail() { echo "LVS-VM: FAIL $1"; cat /tmp/kl.log; exit 1; }

# poll STEP COMMAND...: bounded wait until COMMAND succeeds.
poll() {
    step="$1"; shift
    i=0
    while [ $i -lt 120 ]; do
        if "$@"; then echo "LVS-VM: ok $step"; return 0; fi
        sleep 0.25
        i=$((i + 1))
    done
    fail "$step"
}
table_is() { [ "$(ipvsadm -S -n | sort)" = "$(printf '%s\n' "$@" | sort)" ]; }
table_empty() { [ -z "$(ipvsadm -S -n)" ]; }
vip_on() { ip -4 addr show dev d0 | grep -q 'inet 192.168.77.100/24'; }
vip_off() { ! vip_on; }

insmod "/lib/dummy-$(uname -r).ko" || fail "insmod dummy"
ip link add d0 type dummy || fail "ip link add d0"
ip addr add 192.168.77.1/24 dev d0
ip link set d0 up
mkdir -p /www && echo hello > /www/index.html
httpd -f -p 127.0.0.1:8081 -h /www &
h1=$!

keepalived-lite -n -l -f /etc/both.conf > /tmp/kl.log 2>&1 &
kl=$!
poll both_table table_is '-A -t 192.168.77.100:80 -s wlc' \
    '-a -t 192.168.77.100:80 -r 10.1.0.1:8081 -m -w 1' \
    '-a -t 192.168.77.100:80 -r 10.1.0.3:80 -m -w 2'
poll both_vip vip_on
# lvs_sync_daemon d0 VI_1: the master while VI_1 is MASTER (syncid: its VRID).
sync_master() { ipvsadm -L --daemon | grep -qx 'master sync daemon (mcast=d0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)'; }
sync_none() { [ -z "$(ipvsadm -L --daemon)" ]; }
poll both_sync_master sync_master
kill -TERM $kl
wait $kl
status=$?
[ "$status" = 0 ] || fail "keepalived-lite exited $status"
poll both_table_empty table_empty
poll both_vip_removed vip_off
poll both_sync_stopped sync_none
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl.log

# lvs_sync_daemon_interface d0 in VI_1: keepalived 2.2.7 (its VRRP process)
# and keepalived-lite run the same daemons (the whole list compared).
mkdir -p /run /etc/keepalived
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
# keepalived disables an instance on an interface without multicast.
ip link set d0 multicast on
fail() { echo "LVS-VM: FAIL $1"; ipvsadm -L --daemon; cat "/tmp/$d-iface.log"; exit 1; }
iface_master() { ipvsadm -L --daemon | grep -qx 'master sync daemon (mcast=d0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)'; }
for d in keepalived keepalived-lite; do
    $d -n -l -f /etc/both-iface.conf -p /run/$d.pid -r /run/$d-v.pid -c /run/$d-c.pid > /tmp/$d-iface.log 2>&1 &
    pid=$!
    poll "${d}_iface_sync_master" iface_master
    sleep 1
    ipvsadm -L --daemon > /tmp/$d-daemons
    kill -TERM $pid
    wait $pid
    poll "${d}_iface_table_empty" table_empty
    poll "${d}_iface_sync_stopped" sync_none
    poll "${d}_iface_vip_removed" vip_off
done
if cmp -s /tmp/keepalived-daemons /tmp/keepalived-lite-daemons; then
    echo "LVS-VM: ok iface_same_daemons"
else
    echo "LVS-VM: keepalived 2.2.7:"; cat /tmp/keepalived-daemons
    echo "LVS-VM: keepalived-lite:"; cat /tmp/keepalived-lite-daemons
    fail iface_same_daemons
fi
kill $h1
echo "LVS-VM: done"
