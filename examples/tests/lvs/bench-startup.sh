#!/bin/sh
# VM benchmark (not run by CI), inside ipvs/vm/run-vm.sh: keepalived 2.2.7
# -C and keepalived-lite -C on N virtual servers x 4 real servers with
# TCP_CHECK (busybox httpd answers every check). Prints, per daemon, the
# seconds from start until `ipvsadm -S -n` holds the whole table, and from
# SIGHUP with 1% of the services edited (first real server weight 1 -> 2)
# until the table shows the edit. Usage: bench-startup.sh [N] (default
# 10000). Times come from /proc/uptime (10 ms); compare the two daemons'
# ratios, not absolute times (TCG is ~20x slower than native).
set -u
n=${1:-10000}
mkdir -p /www /run && echo hello > /www/index.html
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
httpd -f -p 127.0.0.1:8081 -h /www &

# gen EDITED: the configuration, with the first real server of every
# hundredth service at weight 2 when EDITED is 1.
gen() {
    awk -v n="$n" -v edited="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            printf "virtual_server 10.%d.%d.%d 80 {\n delay_loop 60\n protocol TCP\n lvs_sched rr\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256
            for (r = 1; r <= 4; r++) {
                w = (edited && r == 1 && i % 100 == 0) ? 2 : 1
                printf " real_server 10.200.%d.%d 80 {\n  weight %d\n  TCP_CHECK {\n   connect_ip 127.0.0.1\n   connect_port 8081\n   connect_timeout 5\n  }\n }\n", r, i % 250 + 1, w
            }
            printf "}\n"
        }
    }'
}
gen 0 > /tmp/base.conf
gen 1 > /tmp/edit.conf
want=$((n * 5))
edits=$(( (n + 99) / 100 ))

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# until COND: polls every half second (bounded at 30 minutes).
until_true() {
    i=0
    while ! "$@"; do
        sleep 0.5
        i=$((i + 1))
        [ $i -lt 3600 ] || { echo "LVS-BENCH: FAIL timed out on $*"; exit 1; }
    done
}
full() { [ "$(ipvsadm -S -n | wc -l)" -eq "$want" ]; }
edited() { [ "$(ipvsadm -S -n | grep -c ' -w 2$')" -eq "$edits" ]; }
empty() { [ -z "$(ipvsadm -S -n)" ]; }

bench() { # NAME COMMAND...
    name=$1; shift
    cp /tmp/base.conf /tmp/cur.conf
    t0=$(now)
    "$@" > /tmp/$name.log 2>&1 &
    pid=$!
    until_true full
    start=$(elapsed "$t0")
    echo "LVS-BENCH: $name services=$n start_s=$start"
    cp /tmp/edit.conf /tmp/cur.conf
    t0=$(now)
    kill -HUP $pid
    until_true edited
    reload=$(elapsed "$t0")
    kill -TERM $pid
    wait $pid
    until_true empty
    echo "LVS-BENCH: $name services=$n reload_s=$reload"
}

# -G: without a syslog daemon keepalived's syslog lines would go to the
# serial console, which is slow under TCG; both daemons log to a file.
bench keepalived keepalived -C -n -l -G -f /tmp/cur.conf -p /run/k.pid -c /run/kc.pid
bench keepalived-lite keepalived-lite -C -n -l -f /tmp/cur.conf
echo "LVS-VM: done"
