#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): keepalived-lite on
# /etc/lvs.conf against busybox httpd real servers. Prints
# "LVS-VM: ok STEP" per passed step; exits non-zero on the first failure.
set -u
mkdir -p /www && echo hello > /www/index.html

# want STEP LINE...: polls (bounded) until `ipvsadm -S -n` holds exactly LINEs.
want() {
    step="$1"; shift
    : > /tmp/want
    for l in "$@"; do echo "$l" >> /tmp/want; done
    sort /tmp/want > /tmp/want.sorted
    i=0
    while [ $i -lt 120 ]; do
        ipvsadm -S -n | sort > /tmp/got
        if cmp -s /tmp/got /tmp/want.sorted; then
            echo "LVS-VM: ok $step"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "LVS-VM: FAIL $step; ipvsadm -S -n shows:"
    cat /tmp/got
    echo "LVS-VM: expected:"
    cat /tmp/want.sorted
    echo "LVS-VM: keepalived-lite log:"
    cat /tmp/kl.log
    exit 1
}

# stop PID SIGNAL: the daemon must exit 0.
stop() {
    kill -"$2" "$1"
    wait "$1"
    status=$?
    [ "$status" = 0 ] || { echo "LVS-VM: FAIL keepalived-lite exited $status"; cat /tmp/kl.log; exit 1; }
}

A='-A -t 10.0.0.1:80 -s rr'
A1='-a -t 10.0.0.1:80 -r 10.1.0.1:8081 -m -w 2'
A2='-a -t 10.0.0.1:80 -r 10.1.0.2:8082 -m -w 1'
B='-A -t 10.0.0.2:80 -s wlc -p 30'
B1='-a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w'
B2='-a -t 10.0.0.2:80 -r 10.1.0.2:80 -g -w'
C='-A -t 10.0.0.3:80 -s wlc'
C1='-a -t 10.0.0.3:80 -r 10.1.0.1:8081 -m -w 1'
C2='-a -t 10.0.0.3:80 -r 10.1.0.2:8082 -m -w 1'
CS='-a -t 10.0.0.3:80 -r 10.9.9.9:80 -m -w 1'
D='-A -t 10.0.0.4:80 -s wlc'
D1='-a -t 10.0.0.4:80 -r 10.1.0.4:80 -m -w'
F='-A -f 7 -s wlc'
F1='-a -f 7 -r 10.1.0.9:0 -i -w 5 --tun-type ipip'

printf '#!/bin/sh\nexit $(cat /tmp/code)\n' > /tmp/probe.sh
chmod +x /tmp/probe.sh
echo 0 > /tmp/code
httpd -f -p 127.0.0.1:8081 -h /www &
h1=$!
keepalived-lite -C -n -l -f /etc/lvs.conf > /tmp/kl.log 2>&1 &
kl=$!
want one_up "$A" "$A1" "$B" "$B1 3" "$B2 0" "$C" "$CS" "$D" "$D1 2" "$F" "$F1"

httpd -f -p 127.0.0.1:8082 -h /www &
h2=$!
echo 7 > /tmp/code
want both_up "$A" "$A1" "$A2" "$B" "$B1 3" "$B2 1" "$C" "$C1" "$C2" "$D" "$D1 5" "$F" "$F1"

kill $h1
echo 1 > /tmp/code
want first_down "$A" "$A2" "$B" "$B1 0" "$B2 1" "$C" "$CS" "$D" "$F" "$F1"

stop $kl TERM
want stopped
cat /tmp/kl.log > /tmp/kl1.log

# Without -C: a configuration without vrrp_instance runs the checker only.
keepalived-lite -n -l -f /etc/lvs.conf > /tmp/kl.log 2>&1 &
kl=$!
want default_mode "$A" "$A2" "$B" "$B1 0" "$B2 1" "$C" "$CS" "$D" "$F" "$F1"
stop $kl INT
want stopped_by_sigint
kill $h2
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl1.log /tmp/kl.log
echo "LVS-VM: done"
