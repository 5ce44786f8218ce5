#!/bin/sh
# VM benchmark (not run by CI), inside ipvs/vm/run-vm.sh: keepalived-lite
# -C on N virtual servers x 4 real servers (TCP_CHECK on busybox httpd),
# then the seconds for K drain+restore pairs over the control socket
# (`keepalived-lite control drain|restore`, each answered once the kernel
# has the weight) against the anchor, the same K pairs of `ipvsadm -e`
# weight edits on a service keepalived-lite does not own; the same
# number of bare client start-ups (`--version`) and `control status`
# round trips, to see where the time goes; and the seconds
# from SIGHUP with the weight set to 0 in the file (keepalived's only way)
# until the kernel shows it. Usage: bench-drain.sh [N] [K] (default 1000,
# 20). Times come from /proc/uptime (10 ms); compare ratios, not absolute
# times (TCG is ~20x slower than native).
set -u
n=${1:-1000}
k=${2:-20}
mkdir -p /www && echo hello > /www/index.html
httpd -f -p 127.0.0.1:8081 -h /www &

# gen W: the configuration, the first real server of the first service
# at weight W.
gen() {
    awk -v n="$n" -v w0="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            printf "virtual_server 10.%d.%d.%d 80 {\n delay_loop 60\n protocol TCP\n lvs_sched rr\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256
            for (r = 1; r <= 4; r++) {
                w = (i == 0 && r == 1) ? w0 : 1
                printf " real_server 10.200.%d.%d 80 {\n  weight %d\n  TCP_CHECK {\n   connect_ip 127.0.0.1\n   connect_port 8081\n   connect_timeout 5\n  }\n }\n", r, i % 250 + 1, w
            }
            printf "}\n"
        }
    }'
}
gen 1 > /tmp/lvs.conf
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ctl() { keepalived-lite --control-socket /tmp/kl.sock control "$@" > /dev/null; }
first_weight() { ipvsadm -L -n -t 10.100.0.0:80 | awk '$2 == "10.200.1.1:80" { print $4 }'; }

keepalived-lite -C -n -l -f /tmp/lvs.conf --control-socket /tmp/kl.sock > /tmp/kl.log 2>&1 &
kl=$!
want=$((n * 5))
i=0
until [ "$(ipvsadm -S -n | wc -l)" = "$want" ]; do
    i=$((i + 1)); [ $i -lt 3600 ] || { echo "BENCH: FAIL table"; exit 1; }
    sleep 0.5
done
until ctl status; do sleep 0.2; done

# The anchor: a foreign service, edited directly.
ipvsadm -A -t 10.99.0.1:80 -s rr
ipvsadm -a -t 10.99.0.1:80 -r 10.200.1.1:80 -m -w 1
t=$(now)
j=0
while [ $j -lt "$k" ]; do
    ipvsadm -e -t 10.99.0.1:80 -r 10.200.1.1:80 -m -w 0
    ipvsadm -e -t 10.99.0.1:80 -r 10.200.1.1:80 -m -w 1
    j=$((j + 1))
done
anchor=$(elapsed "$t")
ipvsadm -D -t 10.99.0.1:80

t=$(now)
j=0
while [ $j -lt "$k" ]; do
    ctl drain 10.100.0.0:80 10.200.1.1 || { echo "BENCH: FAIL drain"; exit 1; }
    ctl restore 10.100.0.0:80 10.200.1.1 || { echo "BENCH: FAIL restore"; exit 1; }
    j=$((j + 1))
done
drain=$(elapsed "$t")
[ "$(first_weight)" = 1 ] || { echo "BENCH: FAIL weight after restore"; exit 1; }

# Where a request's time goes: the client's start-up alone, and a
# round trip that touches no table.
t=$(now)
j=0
while [ $j -lt "$k" ]; do
    keepalived-lite --version > /dev/null
    keepalived-lite --version > /dev/null
    j=$((j + 1))
done
startup=$(elapsed "$t")
t=$(now)
j=0
while [ $j -lt "$k" ]; do
    ctl status
    ctl status
    j=$((j + 1))
done
status=$(elapsed "$t")

gen 0 > /tmp/lvs.conf
t=$(now)
kill -HUP $kl
until [ "$(first_weight)" = 0 ]; do sleep 0.05; done
reload=$(elapsed "$t")
kill -TERM $kl
wait $kl
echo "BENCH: n=$n pairs=$k ipvsadm_pairs_s=$anchor control_pairs_s=$drain ratio=$(awk -v a="$anchor" -v b="$drain" 'BEGIN { printf "%.2f", b / a }') client_startup_x2k_s=$startup status_x2k_s=$status sighup_reload_s=$reload"
