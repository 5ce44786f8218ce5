#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh) for tests/vm_snmp.rs:
# Debian's snmpd (AgentX master on /tmp/agentx, SNMP on udp 127.0.0.1:1161)
# and snmptrapd (udp 127.0.0.1:1162), then keepalived 2.2.7 -C and
# keepalived-lite -C in turn on /etc/snmp.conf with the same real servers
# (busybox httpd on 8081 and 8082; nothing on 8083, whose real server
# fails from the start). For each: the walk of KEEPALIVED-MIB once it is
# stable (started), after the server on 8082 stops (failed) and once it
# serves again (back), the traps up to the failure, those up to the
# return, and the traps its stop sends. keepalived's walks and traps are
# the reference; keepalived-lite must reach exactly them. Walks are
# normalised: the version string (keepalived.1.1.0).
# Both mail their checker alerts to 10.0.2.100:25 (run-vm.sh
# --smtp-forward); each runs under its own host name (keepalived-2-2-7,
# keepalived-lite), which keepalived uses as its HELO name, so that the
# host can tell their mails apart.
# keepalived-lite also serves --metrics-listen 127.0.0.1:9650: after each
# of its walk steps the guest scrapes it (busybox wget) once the health
# of 10.1.0.2:8082 is the one the step implies, and prints the text
# between "LVS-VM: metrics BEGIN STEP" and "LVS-VM: metrics END STEP"
# (STEP: stable, failed, back) for the host to check.
# Prints "LVS-VM: ok STEP" per passed step.
set -u
export MIBS= SNMP_PERSISTENT_DIR=/tmp/snmp
mkdir -p /www /run /tmp/snmp && echo hello > /www/index.html
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
# keepalived's local name is the canonical name of the node name.
echo 'hosts: files' > /etc/nsswitch.conf
printf '127.0.0.1 localhost\n127.0.1.1 keepalived-2-2-7\n127.0.1.2 keepalived-lite\n' > /etc/hosts

cat > /tmp/snmpd.conf <<'CONF'
agentaddress udp:127.0.0.1:1161
master agentx
agentXSocket /tmp/agentx
rocommunity public 127.0.0.1
trap2sink udp:127.0.0.1:1162 public
CONF
cat > /tmp/snmptrapd.conf <<'CONF'
snmpTrapdAddr udp:127.0.0.1:1162
disableAuthorization yes
format2 TRAP %V\n%v\n
CONF
snmpd -f -Lo -C -c /tmp/snmpd.conf > /tmp/snmpd.log 2>&1 &
snmptrapd -f -Lf /tmp/traps.log -On -C -c /tmp/snmptrapd.conf > /tmp/trapd.out 2>&1 &

SNMP="-v2c -c public -On -t 3 -r 1 127.0.0.1:1161"
KMIB=.1.3.6.1.4.1.9586.100.5

i=0
until snmpget $SNMP .1.3.6.1.2.1.1.3.0 2>/dev/null | grep -q Timeticks; do
    i=$((i + 1))
    [ $i -lt 60 ] || { echo "LVS-VM: FAIL snmpd did not answer"; cat /tmp/snmpd.log; exit 1; }
    sleep 0.5
done
i=0
until grep -q 'NET-SNMP version' /tmp/traps.log 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 60 ] || { echo "LVS-VM: FAIL snmptrapd did not start"; cat /tmp/trapd.out; exit 1; }
    sleep 0.5
done
echo "LVS-VM: ok snmp_started"

# walk: KEEPALIVED-MIB, one object a line, the version normalised.
walk() {
    snmpbulkwalk $SNMP $KMIB 2>&1 | sed "s/^$KMIB\.1\.1\.0 = .*/$KMIB.1.1.0 = VERSION/"
}

# traps FILE: the traps received since the log was last emptied, one a
# line (sysUpTime dropped), sorted.
traps() {
    awk '/^TRAP /{ if (t != "") print t; t = ""; next }
         /^\.1\.3\.6\.1\.2\.1\.1\.3\.0 /{ next }
         /^\./{ t = t (t == "" ? "" : " | ") $0 }
         END { if (t != "") print t }' /tmp/traps.log | sort > "$1"
}

# settle FILE: waits (bounded) for the walk to stay the same for three
# one-second samples with a realServerTable in it, and saves it in FILE.
settle() {
    walk > "$1"
    same=0
    i=0
    while [ $same -lt 3 ] && [ $i -lt 90 ]; do
        sleep 1
        walk > /tmp/now
        if cmp -s /tmp/now "$1" && grep -q "^$KMIB\.3\.4\.1\." /tmp/now; then
            same=$((same + 1))
        else
            same=0
            cp /tmp/now "$1"
        fi
        i=$((i + 1))
    done
    [ $same -ge 3 ] || { echo "LVS-VM: FAIL keepalived's walk never settled"; cat "$1"; cat /tmp/k.log; exit 1; }
}

# reach STEP FILE: polls (bounded) until keepalived-lite's walk is FILE.
reach() {
    i=0
    while [ $i -lt 60 ]; do
        walk > /tmp/got
        if cmp -s /tmp/got "$2"; then echo "LVS-VM: ok $1"; return 0; fi
        [ $i = 20 ] && { echo "LVS-VM: $1 not yet; diff:"; diff "$2" /tmp/got | head -40; }
        sleep 0.5
        i=$((i + 1))
    done
    echo "LVS-VM: FAIL $1; diff keepalived 2.2.7 (-) keepalived-lite (+):"
    diff "$2" /tmp/got
    cat /tmp/kl.log
    exit 1
}

# quiet_traps FILE: waits (bounded) until no trap arrived for two seconds,
# then saves them in FILE.
quiet_traps() {
    traps "$1"
    i=0
    while [ $i -lt 20 ]; do
        sleep 2
        traps /tmp/traps.now
        cmp -s /tmp/traps.now "$1" && return 0
        cp /tmp/traps.now "$1"
        i=$((i + 1))
    done
}

# mails_sent: waits (bounded) until no connection to the SMTP forward
# (10.0.2.100:25, 6402000A:0019 in /proc/net/tcp) is being set up or open.
mails_sent() {
    i=0
    while grep -qE '^ *[0-9]+: [0-9A-F:]+ 6402000A:0019 0[12] ' /proc/net/tcp; do
        i=$((i + 1))
        [ $i -lt 120 ] || { echo "LVS-VM: FAIL a mail is still being sent"; cat /proc/net/tcp; exit 1; }
        sleep 0.5
    done
}

# back: waits (bounded) until keepalived's walk shows 10.1.0.2:8082
# (virtual server 1, real server 2) up again.
back() {
    i=0
    until walk | grep -q "^$KMIB\.3\.4\.1\.6\.1\.2 = INTEGER: 1\$"; do
        i=$((i + 1))
        [ $i -lt 60 ] || { echo "LVS-VM: FAIL 10.1.0.2:8082 never came back"; cat /tmp/k.log; exit 1; }
        sleep 0.5
    done
}

# scrape STEP UP WEIGHT: polls (bounded) keepalived-lite's metrics until
# they show 10.1.0.2:8082 with health UP (1 or 0) and its virtual
# server's active weight WEIGHT (published after the IPVS table is
# synced, so its operations are counted by then), then prints them.
METRICS=http://127.0.0.1:9650/metrics
RS2_UP='^keepalived_real_server_up{.*real_server="[^"]*10\.1\.0\.2[^"]*8082"}'
VS1_WEIGHT='^keepalived_virtual_server_active_weight{virtual_server="\[10\.0\.0\.1\]:tcp:80"}'
scrape() {
    i=0
    until wget -q -O /tmp/metrics "$METRICS" 2>/dev/null && grep -q "$RS2_UP $2\$" /tmp/metrics \
        && grep -q "$VS1_WEIGHT $3\$" /tmp/metrics; do
        i=$((i + 1))
        [ $i -lt 60 ] || { echo "LVS-VM: FAIL metrics $1"; cat /tmp/metrics; cat /tmp/kl.log; exit 1; }
        sleep 0.5
    done
    echo "LVS-VM: metrics BEGIN $1"
    cat /tmp/metrics
    echo "LVS-VM: metrics END $1"
}

stop() {
    mails_sent
    kill -TERM "$1"
    wait "$1"
    mails_sent
    echo "LVS-VM: ok $2_stopped"
}

RS_DOWN="$KMIB.3.4.1.6 = INTEGER: 2"
RS_UP="$KMIB.3.4.1.6 = INTEGER: 1"
httpd -f -p 127.0.0.1:8081 -h /www & h1=$!
httpd -f -p 127.0.0.1:8082 -h /www & h2=$!

# keepalived 2.2.7: the reference.
hostname keepalived-2-2-7
: > /tmp/traps.log
keepalived -C -n -l -D -f /etc/snmp.conf -p /run/k.pid -c /run/kc.pid > /tmp/k.log 2>&1 &
k=$!
settle /tmp/k.started
kill $h2; wait $h2
settle /tmp/k.failed
quiet_traps /tmp/k.traps
: > /tmp/traps.log
httpd -f -p 127.0.0.1:8082 -h /www & h2=$!
back
settle /tmp/k.back
quiet_traps /tmp/k.back.traps
: > /tmp/traps.log
stop $k keepalived
quiet_traps /tmp/k.stop.traps
echo "LVS-VM: keepalived 2.2.7 walk (started):"; cat /tmp/k.started
echo "LVS-VM: keepalived 2.2.7 walk (failed):"; cat /tmp/k.failed
echo "LVS-VM: keepalived 2.2.7 walk (back):"; cat /tmp/k.back
echo "LVS-VM: keepalived 2.2.7 traps:"; cat /tmp/k.traps
echo "LVS-VM: keepalived 2.2.7 traps (back):"; cat /tmp/k.back.traps
echo "LVS-VM: keepalived 2.2.7 traps at stop:"; cat /tmp/k.stop.traps
echo "LVS-VM: keepalived 2.2.7 log:"; cat /tmp/k.log
echo "LVS-VM: end of reference"

# keepalived-lite on the same file and servers (8082 serves again).
hostname keepalived-lite
: > /tmp/traps.log
keepalived-lite -C -n -l -f /etc/snmp.conf --metrics-listen 127.0.0.1:9650 > /tmp/kl.log 2>&1 &
kl=$!
reach parity_started /tmp/k.started
scrape stable 1 3
kill $h2; wait $h2
reach parity_failed /tmp/k.failed
scrape failed 0 2
quiet_traps /tmp/kl.traps
: > /tmp/traps.log
httpd -f -p 127.0.0.1:8082 -h /www & h2=$!
reach parity_back /tmp/k.back
scrape back 1 3
quiet_traps /tmp/kl.back.traps
: > /tmp/traps.log
stop $kl keepalived_lite
quiet_traps /tmp/kl.stop.traps
echo "LVS-VM: keepalived-lite traps:"; cat /tmp/kl.traps
echo "LVS-VM: keepalived-lite traps (back):"; cat /tmp/kl.back.traps
echo "LVS-VM: keepalived-lite traps at stop:"; cat /tmp/kl.stop.traps
if cmp -s /tmp/k.traps /tmp/kl.traps && grep -q "$RS_DOWN" /tmp/kl.traps; then
    echo "LVS-VM: ok parity_traps"
else
    echo "LVS-VM: FAIL traps differ; diff keepalived 2.2.7 (-) keepalived-lite (+):"
    diff /tmp/k.traps /tmp/kl.traps
    cat /tmp/kl.log
    exit 1
fi
if cmp -s /tmp/k.back.traps /tmp/kl.back.traps && grep -q "$RS_UP" /tmp/kl.back.traps; then
    echo "LVS-VM: ok parity_back_traps"
else
    echo "LVS-VM: FAIL traps (back) differ; diff keepalived 2.2.7 (-) keepalived-lite (+):"
    diff /tmp/k.back.traps /tmp/kl.back.traps
    exit 1
fi
if cmp -s /tmp/k.stop.traps /tmp/kl.stop.traps; then
    echo "LVS-VM: ok parity_stop_traps"
else
    echo "LVS-VM: FAIL traps at stop differ; diff keepalived 2.2.7 (-) keepalived-lite (+):"
    diff /tmp/k.stop.traps /tmp/kl.stop.traps
    exit 1
fi
kill $h1 2>/dev/null
echo "LVS-VM: done"
