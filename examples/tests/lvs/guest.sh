#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): keepalived-lite on
# /etc/lvs.conf against busybox httpd real servers, with real servers
# drained and restored over its control socket. Prints
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

fail() {
    echo "LVS-VM: FAIL $1"
    echo "LVS-VM: keepalived-lite log:"
    cat /tmp/kl.log
    exit 1
}

# ctl ARGS...: keepalived-lite's control client on the daemon's socket.
ctl() {
    keepalived-lite --control-socket /tmp/kl.sock control "$@"
}

# ctl_is STEP REPLY ARGS...: the request's reply line is exactly REPLY.
ctl_is() {
    step="$1"; want_reply="$2"; shift 2
    got=$(ctl "$@" 2>&1)
    [ "$got" = "$want_reply" ] || fail "$step: control $* said: $got"
    echo "LVS-VM: ok $step"
}

# want_status STEP PART...: polls (bounded) until `control status` holds
# every PART (one real server's JSON object each).
want_status() {
    step="$1"; shift
    i=0
    while [ $i -lt 120 ]; do
        ctl status > /tmp/status 2>&1
        missing=""
        for part in "$@"; do
            grep -qF -- "$part" /tmp/status || missing="$part"
        done
        if [ -z "$missing" ]; then
            echo "LVS-VM: ok $step"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "LVS-VM: status lacks $missing:"
    cat /tmp/status
    fail "$step"
}

# stop PID SIGNAL: the daemon must exit 0.
stop() {
    kill -"$2" "$1"
    wait "$1"
    status=$?
    [ "$status" = 0 ] || { echo "LVS-VM: FAIL keepalived-lite exited $status"; cat /tmp/kl.log; exit 1; }
}

A='-A -t 10.0.0.1:80 -s rr'
A1='-a -t 10.0.0.1:80 -r 10.1.0.1:8081 -m -w'
A2='-a -t 10.0.0.1:80 -r 10.1.0.2:8082 -m -w'
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
F1_DRAINED='-a -f 7 -r 10.1.0.9:0 -i -w 0 --tun-type ipip'
VS_A='"virtual_server":"[10.0.0.1]:tcp:80"'
RS_A1='"real_server":"[10.1.0.1]:tcp:8081"'
RS_A2='"real_server":"[10.1.0.2]:tcp:8082"'

printf '#!/bin/sh\nexit $(cat /tmp/code)\n' > /tmp/probe.sh
chmod +x /tmp/probe.sh
echo 0 > /tmp/code
httpd -f -p 127.0.0.1:8081 -h /www &
h1=$!
keepalived-lite -C -n -l -f /etc/lvs.conf --control-socket /tmp/kl.sock > /tmp/kl.log 2>&1 &
kl=$!
want one_up "$A" "$A1 2" "$B" "$B1 3" "$B2 0" "$C" "$CS" "$D" "$D1 2" "$F" "$F1"

# Drain over the control socket (named as ipvsadm and as keepalived
# do): a live server goes to weight 0, a down one stays out, a TUN one
# of a fwmark service (port 0 in the table) goes to 0; the reply comes
# once the kernel has it.
ctl_is drain_reply '{"changed":true,"drained":true,"ok":true,"real_server":"[10.1.0.1]:tcp:8081","virtual_server":"[10.0.0.1]:tcp:80"}' \
    drain 10.0.0.1:80 10.1.0.1:8081
ipvsadm -S -n | grep -qxF -- "$A1 0" || fail "drain_reply: answered before the kernel had weight 0"
ctl drain 'tcp 10.0.0.1:80' 10.1.0.2 > /dev/null || fail "drain 10.1.0.2"
ctl drain 'fwmark 7' 10.1.0.9:0 > /dev/null || fail "drain fwmark 7"
want drained "$A" "$A1 0" "$B" "$B1 3" "$B2 0" "$C" "$CS" "$D" "$D1 2" "$F" "$F1_DRAINED"
want_status status_drained \
    "{\"drained\":true,\"health\":\"up\",$RS_A1,$VS_A,\"weight\":0}" \
    "{\"drained\":true,\"health\":\"down\",$RS_A2,$VS_A,\"weight\":null}"
ctl_is drain_unknown_refused \
    'keepalived-lite: virtual server [10.0.0.1]:tcp:80 has no real server 10.1.0.7' \
    drain 10.0.0.1:80 10.1.0.7

# The drained down server comes up: in, but still at weight 0.
httpd -f -p 127.0.0.1:8082 -h /www &
h2=$!
echo 7 > /tmp/code
want drained_came_up "$A" "$A1 0" "$A2 0" "$B" "$B1 3" "$B2 1" "$C" "$C1" "$C2" "$D" "$D1 5" "$F" "$F1_DRAINED"

# Restored: the weights the checks and the configuration give.
ctl_is restore_reply '{"changed":true,"drained":false,"ok":true,"real_server":"[10.1.0.1]:tcp:8081","virtual_server":"[10.0.0.1]:tcp:80"}' \
    restore '[10.0.0.1]:tcp:80' '[10.1.0.1]:tcp:8081'
ctl restore 10.0.0.1:80 10.1.0.2:8082 > /dev/null || fail "restore 10.1.0.2"
ctl restore 'FWM 7' 10.1.0.9 > /dev/null || fail "restore fwmark 7"
want both_up "$A" "$A1 2" "$A2 1" "$B" "$B1 3" "$B2 1" "$C" "$C1" "$C2" "$D" "$D1 5" "$F" "$F1"
want_status status_restored \
    "{\"drained\":false,\"health\":\"up\",$RS_A1,$VS_A,\"weight\":2}" \
    "{\"drained\":false,\"health\":\"up\",$RS_A2,$VS_A,\"weight\":1}"

kill $h1
echo 1 > /tmp/code
want first_down "$A" "$A2 1" "$B" "$B1 0" "$B2 1" "$C" "$CS" "$D" "$F" "$F1"

stop $kl TERM
want stopped
cat /tmp/kl.log > /tmp/kl1.log

# Without -C: a configuration without vrrp_instance runs the checker only.
keepalived-lite -n -l -f /etc/lvs.conf > /tmp/kl.log 2>&1 &
kl=$!
want default_mode "$A" "$A2 1" "$B" "$B1 0" "$B2 1" "$C" "$CS" "$D" "$F" "$F1"
stop $kl INT
want stopped_by_sigint
kill $h2
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl1.log /tmp/kl.log
echo "LVS-VM: done"
