#!/bin/sh
# Runs inside the ipvs test VM (ipvs/vm/run-vm.sh): the checker's DATA
# dump on SIGUSR1 and under config_save_dir, SIGHUP reload by diff, a
# broken reload, and the repair of an `ipvsadm -d`. Prints
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

# log_since N TEXT: whether the log after its first N lines holds TEXT.
log_since() {
    tail -n +"$(($1 + 1))" /tmp/kl.log | grep -qF "$2"
}

A='-A -t 10.0.0.1:80 -s rr'
A1='-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w'
A2='-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 0'
A3='-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1'
B='-A -t 10.0.0.2:80 -s wlc'
B1='-a -t 10.0.0.2:80 -r 10.1.0.5:80 -m -w 1'
C='-A -t 10.0.0.3:80 -s wlc'
C1='-a -t 10.0.0.3:80 -r 10.1.0.6:80 -m -w 1'

httpd -f -p 127.0.0.1:8081 -h /www &
# show_file PREFIX FILE: polls (bounded) until FILE has text, prints each
# line after PREFIX.
show_file() {
    i=0
    until [ -s "$2" ]; do
        i=$((i + 1))
        [ $i -lt 120 ] || { echo "LVS-VM: FAIL no $2"; cat /tmp/kl.log /tmp/k.log; exit 1; }
        sleep 0.25
    done
    sed "s/^/$1: /" "$2"
}

# dump_ran PID PREFIX: SIGUSR1 to PID until (bounded) its checker dump
# shows both checkers have run; prints it after PREFIX.
dump_ran() {
    i=0
    while :; do
        rm -f /tmp/keepalived_check.data
        kill -USR1 "$1"
        # Complete once it has text and its size held for a poll.
        j=0; was=0; now=0
        until [ "$now" -gt 0 ] && [ "$now" = "$was" ]; do
            j=$((j + 1))
            [ $j -lt 120 ] || { echo "LVS-VM: FAIL no dump"; cat /tmp/kl.log /tmp/k.log; exit 1; }
            sleep 0.25
            was=$now
            now=$(wc -c < /tmp/keepalived_check.data 2>/dev/null || echo 0)
        done
        [ "$(grep -c 'Has run = yes' /tmp/keepalived_check.data)" = 2 ] && break
        i=$((i + 1))
        [ $i -lt 40 ] || { echo "LVS-VM: FAIL checkers never ran"; exit 1; }
        sleep 0.25
    done
    sed "s/^/$2: /" /tmp/keepalived_check.data
}

# keepalived 2.2.7's checker DATA dump of reload1.conf, as the reference:
# SIGUSR1 to its checker process once 10.1.0.2 is down.
mkdir -p /run && echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group
keepalived -C -n -l -D -f /etc/reload1.conf -p /run/k.pid -c /run/kc.pid > /tmp/k.log 2>&1 &
k=$!
want ka_started "$A" "$A1 1" "$A2" "$B" "$B1"
dump_ran "$(cat /run/kc.pid)" KA-DUMP
kill -TERM $k
wait $k
want ka_stopped
rm -f /tmp/keepalived_check.data

# config_save_dir: the checker's DATA dump before and after each reload.
printf 'global_defs {\n    config_save_dir /tmp/save\n}\n' > /etc/lvs.conf
cat /etc/reload1.conf >> /etc/lvs.conf
keepalived-lite -C -n -l -f /etc/lvs.conf > /tmp/kl.log 2>&1 &
kl=$!
want started "$A" "$A1 1" "$A2" "$B" "$B1"

# SIGUSR1: the checker's DATA dump, once 10.1.0.2 was found down.
i=0
until grep -qF "Removing service [10.1.0.2]:tcp:80" /tmp/kl.log \
    || grep -qF "Disabling service [10.1.0.2]:tcp:80" /tmp/kl.log; do
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "LVS-VM: FAIL 10.1.0.2 never went down"; cat /tmp/kl.log; exit 1; }
    sleep 0.25
done
dump_ran $kl LVS-DUMP
echo "LVS-VM: dump mode $(stat -c %a /tmp/keepalived_check.data)"
echo "LVS-VM: ok data_dump"

# Reload: only the diff, and 10.1.0.2 keeps its (down) state: no line
# about it afterwards but its checker's re-activation (a fresh target
# would start up, fail and be disabled).
n=$(wc -l < /tmp/kl.log)
cp /etc/reload2.conf /etc/lvs.conf
kill -HUP $kl
want reloaded "$A" "$A1 3" "$A2" "$A3" "$C" "$C1"
show_file LVS-PRE /tmp/save/keepalived_check.$kl.1.pre
show_file LVS-POST /tmp/save/keepalived_check.$kl.1.post
echo "LVS-VM: ok saved_dumps"
sleep 3
if tail -n +"$((n + 1))" /tmp/kl.log | grep -v "Activating healthchecker" | grep -qF "10.1.0.2"; then
    echo "LVS-VM: FAIL 10.1.0.2 changed state on reload"; cat /tmp/kl.log; exit 1
fi
log_since "$n" "Changing weight from 1 to 3 for active service [10.1.0.1]:tcp:80 of VS [10.0.0.1]:tcp:80" \
    || { echo "LVS-VM: FAIL no reweight line"; cat /tmp/kl.log; exit 1; }
echo "LVS-VM: ok health_kept"

# A delay_loop-only edit while 10.1.0.2 is down: its checker is the same
# (keepalived's migrate_checkers), so it stays down (weight 0) with no line.
n=$(wc -l < /tmp/kl.log)
sed 's/delay_loop 1/delay_loop 2/' /etc/reload2.conf > /etc/lvs.conf
kill -HUP $kl
show_file LVS-POST2 /tmp/save/keepalived_check.$kl.2.post > /dev/null
sleep 3
if tail -n +"$((n + 1))" /tmp/kl.log | grep -v "Activating healthchecker" | grep -qF "10.1.0.2"; then
    echo "LVS-VM: FAIL 10.1.0.2 changed state on a delay_loop reload"; cat /tmp/kl.log; exit 1
fi
want delay_loop_kept "$A" "$A1 3" "$A2" "$A3" "$C" "$C1"

# A broken file: the running table stays, and the log says why.
n=$(wc -l < /tmp/kl.log)
cp /etc/broken.conf /etc/lvs.conf
kill -HUP $kl
i=0
until log_since "$n" "Reload failed, keeping the running configuration"; do
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "LVS-VM: FAIL no reload failure logged"; cat /tmp/kl.log; exit 1; }
    sleep 0.25
done
want broken_reload_kept "$A" "$A1 3" "$A2" "$A3" "$C" "$C1"

# Drift: an admin deletes a healthy real server; the checker puts it back.
ipvsadm -d -t 10.0.0.1:80 -r 10.1.0.1:80
want repaired "$A" "$A1 3" "$A2" "$A3" "$C" "$C1"

kill -TERM $kl
wait $kl
status=$?
[ "$status" = 0 ] || { echo "LVS-VM: FAIL keepalived-lite exited $status"; cat /tmp/kl.log; exit 1; }
want stopped
echo "LVS-VM: keepalived-lite log:"
cat /tmp/kl.log
echo "LVS-VM: done"
