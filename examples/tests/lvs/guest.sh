#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): keepalived-lite -C on
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

FWM1='-A -f 7 -s wlc'
FWM2='-a -f 7 -r 10.1.0.9:80 -i -w 5 --tun-type ipip'
A='-A -t 10.0.0.1:80 -s rr'
B='-A -t 10.0.0.2:80 -s wlc -p 30'

httpd -f -p 127.0.0.1:8081 -h /www &
h1=$!
keepalived-lite -C -n -l -f /etc/lvs.conf > /tmp/kl.log 2>&1 &
kl=$!

want one_up "$A" "-a -t 10.0.0.1:80 -r 10.1.0.1:8081 -m -w 2" \
    "$B" "-a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w 3" "-a -t 10.0.0.2:80 -r 10.1.0.2:80 -g -w 0" \
    "$FWM1" "$FWM2"

httpd -f -p 127.0.0.1:8082 -h /www &
h2=$!
want both_up "$A" "-a -t 10.0.0.1:80 -r 10.1.0.1:8081 -m -w 2" "-a -t 10.0.0.1:80 -r 10.1.0.2:8082 -m -w 1" \
    "$B" "-a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w 3" "-a -t 10.0.0.2:80 -r 10.1.0.2:80 -g -w 1" \
    "$FWM1" "$FWM2"

kill $h1
want first_down "$A" "-a -t 10.0.0.1:80 -r 10.1.0.2:8082 -m -w 1" \
    "$B" "-a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w 0" "-a -t 10.0.0.2:80 -r 10.1.0.2:80 -g -w 1" \
    "$FWM1" "$FWM2"

kill -TERM $kl
wait $kl
status=$?
[ "$status" = 0 ] || { echo "LVS-VM: FAIL keepalived-lite exited $status"; cat /tmp/kl.log; exit 1; }
want stopped
kill $h2
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl.log
echo "LVS-VM: done"
