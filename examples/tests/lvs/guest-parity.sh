#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): keepalived 2.2.7 -C
# and keepalived-lite -C, one after the other, on /etc/parity.conf with
# the same real servers, which /etc/parity.servers starts (servers_up),
# fails (fail_one) and brings back (recover). keepalived's table after
# start-up and after the failure is the reference; keepalived-lite must
# reach exactly it; both must leave the table empty on SIGTERM, and the
# scripts writing to /tmp/notes must have run the same. With
# /etc/parity.reload, both are also sent SIGHUP after start-up with that
# file in place, and must reach the same table. The connection timeouts
# (ipvsadm -L --timeout) and the sync daemons (ipvsadm -L --daemon) are
# part of the compared table; after each stop the timeouts must be back
# to their values from before start and no sync daemon may run.
# Prints "LVS-VM: ok STEP" per passed step.
set -u
. /etc/parity.servers
mkdir -p /www /run /etc/keepalived && echo hello > /www/index.html
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
printf '#!/bin/sh\nexit 0\n' > /tmp/probe.sh
chmod +x /tmp/probe.sh

table() { ipvsadm -S -n | sort; ipvsadm -L --timeout; ipvsadm -L --daemon; }
ipvsadm -L --timeout > /tmp/timeouts.before

# settle FILE: waits (bounded) for keepalived's table to stay the same for
# three one-second samples, and saves it in FILE.
settle() {
    table > "$1"
    same=0
    i=0
    while [ $same -lt 3 ] && [ $i -lt 60 ]; do
        sleep 1
        table > /tmp/now
        if cmp -s /tmp/now "$1"; then same=$((same + 1)); else same=0; cp /tmp/now "$1"; fi
        i=$((i + 1))
    done
    [ $same -ge 3 ] || { echo "LVS-VM: FAIL keepalived's table never settled"; cat /tmp/k.log; exit 1; }
}

# reach STEP FILE: polls (bounded) until the table is exactly FILE.
reach() {
    i=0
    while [ $i -lt 120 ]; do
        table > /tmp/got
        if cmp -s /tmp/got "$2"; then echo "LVS-VM: ok $1"; return 0; fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "LVS-VM: FAIL $1; keepalived-lite shows:"; cat /tmp/got
    echo "LVS-VM: keepalived 2.2.7 showed:"; cat "$2"
    cat /tmp/kl.log
    exit 1
}

stop() {
    kill -TERM "$1"
    wait "$1"
    i=0
    while [ -n "$(ipvsadm -S -n)" ] && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
    [ -z "$(ipvsadm -S -n)" ] || { echo "LVS-VM: FAIL table left after $2 stopped"; ipvsadm -S -n; exit 1; }
    ipvsadm -L --timeout | cmp -s - /tmp/timeouts.before || {
        echo "LVS-VM: FAIL timeouts not restored after $2 stopped"; ipvsadm -L --timeout; exit 1; }
    [ -z "$(ipvsadm -L --daemon)" ] || {
        echo "LVS-VM: FAIL sync daemon left after $2 stopped"; ipvsadm -L --daemon; exit 1; }
    echo "LVS-VM: ok $2_stopped_empty"
}

: > /tmp/notes
servers_up
cp /etc/parity.conf /tmp/cur.conf
keepalived -C -n -l -D -f /tmp/cur.conf -p /run/k.pid -c /run/kc.pid > /tmp/k.log 2>&1 &
k=$!
settle /tmp/k.started
if [ -f /etc/parity.reload ]; then
    cp /etc/parity.reload /tmp/cur.conf
    kill -HUP $k
    settle /tmp/k.reloaded
fi
fail_one
settle /tmp/k.failed
stop $k keepalived
sort /tmp/notes > /tmp/k.notes
: > /tmp/notes
echo "LVS-VM: keepalived 2.2.7 tables:"
cat /tmp/k.started
echo "--"
cat /tmp/k.failed

recover
cp /etc/parity.conf /tmp/cur.conf
keepalived-lite -C -n -l -f /tmp/cur.conf > /tmp/kl.log 2>&1 &
kl=$!
reach parity_started /tmp/k.started
if [ -f /etc/parity.reload ]; then
    cp /etc/parity.reload /tmp/cur.conf
    kill -HUP $kl
    reach parity_reloaded /tmp/k.reloaded
fi
fail_one
reach parity_failed /tmp/k.failed
stop $kl keepalived_lite
sort /tmp/notes > /tmp/kl.notes
cmp -s /tmp/k.notes /tmp/kl.notes || {
    echo "LVS-VM: FAIL scripts differ; keepalived:"; cat /tmp/k.notes
    echo "keepalived-lite:"; cat /tmp/kl.notes; exit 1; }
echo "LVS-VM: ok parity_scripts ($(tr '\n' ' ' < /tmp/k.notes))"
echo "LVS-VM: keepalived log:"
cat /tmp/k.log
# The real servers go, so that another run in this boot can start its own.
for pid in ${h1:-} ${h2:-}; do kill "$pid" 2>/dev/null; wait "$pid"; done
echo "LVS-VM: done"
