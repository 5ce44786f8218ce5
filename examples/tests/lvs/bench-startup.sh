#!/bin/sh
# VM benchmark (not run by CI), inside ipvs/vm/run-vm.sh: keepalived-lite
# -C and keepalived 2.2.7 -C, in turn in one boot, on N virtual servers x 4
# real servers with TCP_CHECK (bench-acceptor, copied in as
# /bin/bench-acceptor, accepts and closes every connection).
#
# start:  seconds from launching the daemon until the kernel has the last
#         service in configuration order (both daemons add in that order)
#         with its 4 real servers; probed with `ipvsadm -L -n -t` of that
#         one service every 0.2 s, then the whole table is counted once.
# reload: seconds from SIGHUP, with 1% of the services edited (first real
#         server's weight 1 -> 2), until the last edited service shows the
#         edit, then every edit is counted once. For keepalived-lite also
#         the IPVS operations it sent for the reload (its metrics) and the
#         health changes it logged (both must be: the diff, and none).
# steady: with `delay_loop 1`, once the table is full and 20 s have
#         passed, the daemon's CPU seconds (utime + stime of it and its
#         children, /proc/PID/stat) over a W-second window, the connects the
#         guest made (Tcp ActiveOpens of /proc/net/snmp, all from the
#         checkers) and the guest's idle time.
#
# floor: with /bin/bench-floor in the guest (bench-floor.c), the same
#         steady window for a bare epoll loop that makes N x 4 checks a
#         second the way keepalived's TCP_CHECK does: the CPU any checker
#         making these connections pays at least. In the side-by-side
#         runs also in bench-floor's other ways (floor-rst, floor-reuse,
#         floor-reuse-b10, ...: see floor_args).
#
# Usage: bench-startup.sh [N] [W] [RELOAD_CAP_S] [SMALL_N] (default 10000
# 30 1200, no SMALL_N), or bench-startup.sh steady N[,N...] [W] [ROUNDS]
# [PROGRAMS] (default W 30, ROUNDS 1): only steady checking, at each N in
# turn, for a short boot. There the PROGRAMS (comma-separated; default
# keepalived-lite, keepalived, floor and, if /bin has it,
# keepalived-lite-base, an older build; see launch) all run at once, the
# K-th on its own addresses (10.(99+K).x.x) and checking its own acceptor
# port (8080+K), and ROUNDS windows of W seconds each measure them side
# by side: the host's load (it stretches the guest's CPU times under TCG)
# then weighs on all of them alike. The checks each made in a window are
# its acceptor's accepts; the acceptor's own CPU is printed too (the
# kernel charges each side of a loopback connection partly to the other
# process).
set -u
steady_only=
if [ "${1:-}" = steady ]; then
    steady_only=1
    shift
    sizes=${1:-25}
    programs=${4:-keepalived-lite,keepalived,floor}
    command -v keepalived-lite-base > /dev/null && [ -z "${4:-}" ] && programs="$programs,keepalived-lite-base"
    set -- "${sizes%%,*}" "${2:-30}" 0 "${3:-1}"
fi
n=${1:-10000}
window=${2:-30}
cap=${3:-1200}
small=${4:-}
mkdir -p /run && echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'root:x:0:' > /etc/group
bench-acceptor 8081 &
acc=$!

# gen EDITED DELAY [NET [PORT]]: the configuration (virtual servers in
# 10.NET.0.0/16 and up, default 100; checks to 127.0.0.1:PORT, default
# 8081); with EDITED 1 the first real server of every hundredth service
# has weight 2.
gen() {
    awk -v n="$n" -v edited="$1" -v delay="$2" -v net="${3:-100}" -v port="${4:-8081}" 'BEGIN {
        for (i = 0; i < n; i++) {
            printf "virtual_server 10.%d.%d.%d 80 {\n delay_loop %d\n protocol TCP\n lvs_sched rr\n", net + int(i / 65536), int(i / 256) % 256, i % 256, delay
            for (r = 1; r <= 4; r++) {
                w = (edited && r == 1 && i % 100 == 0) ? 2 : 1
                printf " real_server 10.200.%d.%d 80 {\n  weight %d\n  TCP_CHECK {\n   connect_ip 127.0.0.1\n   connect_port %d\n   connect_timeout 5\n  }\n }\n", r, i % 250 + 1, w, port
            }
            printf "}\n"
        }
    }'
}
vip() { echo "10.$((100 + $1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256)):80"; }
gen 0 1 > /tmp/steady.conf
# setn N: the sizes and probes for N services.
setn() {
    n=$1
    want=$((n * 5))
    edits=$(((n + 99) / 100))
    last=$(vip $((n - 1)))
    last_edit=$(vip $(((n - 1) / 100 * 100)))
    last_rs="10.200.1.$(((n - 1) / 100 * 100 % 250 + 1)):80"
}
setn "$n"

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# until_true LIMIT_S COND...: polls COND every 0.2 s; false after LIMIT_S.
until_true() {
    limit=$(($1 * 5)); shift
    i=0
    while ! "$@"; do
        sleep 0.2
        i=$((i + 1))
        [ $i -lt $limit ] || return 1
    done
}
# The real servers of one service with their weights: "ADDR WEIGHT" lines.
dests() { ipvsadm -L -n -t "$1" 2>/dev/null | awk '$1 == "->" && $2 ~ /^10\./ { print $2, $4 }'; }
last_full() { [ "$(dests "$last" | wc -l)" -eq 4 ]; }
last_edited() { dests "$last_edit" | grep -qx "$last_rs 2"; }
full() { [ "$(ipvsadm -S -n | wc -l)" -eq "$want" ]; }
edited() { [ "$(ipvsadm -S -n | grep -c ' -w 2$')" -eq "$edits" ]; }
empty() { [ -z "$(ipvsadm -S -n)" ]; }

# timed PROBE CHECK: seconds since t0 until PROBE holds, then CHECK once
# (the whole table); if CHECK does not hold yet, until it does, marked
# with '*'. "fail" after 30 minutes.
timed() {
    until_true 1800 "$1" || { echo fail; return; }
    t=$(elapsed "$t0")
    if "$2"; then echo "$t"; return; fi
    until_true 1800 "$2" || { echo fail; return; }
    echo "$(elapsed "$t0")*"
}

# cpu PID...: "UTIME STIME" of the PIDs and their children, in ticks.
cpu() {
    all="$*"
    for p in $*; do
        all="$all $(grep -l "^PPid:[[:space:]]*$p\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3)"
    done
    for p in $all; do cat /proc/$p/stat 2>/dev/null; done | awk '{ u += $14; s += $15 } END { print u + 0, s + 0 }'
}
opens() { awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
idle() { awk '$1 == "cpu" { print $5 }' /proc/stat; }

# stop PID...: SIGKILL, then the table flushed (keepalived takes minutes
# to remove 50,000 entries one by one under TCG; that is not measured).
stop() {
    kill -KILL "$@" 2>/dev/null
    for p in "$@"; do wait "$p" 2>/dev/null; done
    ipvsadm -C
    until_true 60 empty || echo "LVS-BENCH: FAIL table not empty"
}

# steady NAME PIDS...: the window, once the table is full and settled.
steady() {
    name=$1; shift
    t0=$(now)
    s=$(timed last_full full)
    sleep 20
    window "$name" "$@"
}

metric_ops() {
    wget -qO- http://127.0.0.1:9650/metrics | awk '/^keepalived_ipvs_operations_total/ { print $1, $2 }'
}

# window NAME PIDS...: the CPU, connects and idle time over the window.
window() {
    name=$1; shift
    c0=$(cpu "$@"); o0=$(opens); i0=$(idle); t0=$(now)
    sleep "$window"
    c1=$(cpu "$@"); o1=$(opens); i1=$(idle); w=$(elapsed "$t0")
    echo "LVS-BENCH: $name services=$n steady start_s=$s window_s=$w $(echo $c0 $c1 | awk '{ printf "cpu_s=%.2f user_s=%.2f sys_s=%.2f", ($3 + $4 - $1 - $2) / 100, ($3 - $1) / 100, ($4 - $2) / 100 }') connects=$((o1 - o0)) guest_idle_s=$(awk -v a="$i0" -v b="$i1" 'BEGIN { printf "%.2f", (b - a) / 100 }')"
}

# lite_steady NAME BINARY: one keepalived-lite build on /tmp/steady.conf.
lite_steady() {
    cp /tmp/steady.conf /tmp/cur.conf
    "$2" -C -n -l -f /tmp/cur.conf > /tmp/lite-steady.log 2>&1 &
    pid=$!
    steady "$1" $pid
    echo "LVS-BENCH: $1 steady log lines: $(wc -l < /tmp/lite-steady.log), removals $(grep -c 'Removing service' /tmp/lite-steady.log)"
    stop $pid
}

# floor_steady: bench-floor making the same checks, same settling time.
floor_steady() {
    command -v bench-floor > /dev/null || return 0
    bench-floor 8081 $((n * 4)) &
    pid=$!
    s=0
    sleep 20
    window floor $pid
    kill -KILL $pid
    wait $pid 2>/dev/null
}

# both_steady: keepalived-lite, then keepalived, on /tmp/steady.conf.
# -G: without a syslog daemon keepalived's syslog lines would go to the
# slow serial console; both daemons log to a file.
both_steady() {
    lite_steady keepalived-lite keepalived-lite
    if command -v keepalived-lite-base > /dev/null; then
        lite_steady keepalived-lite-base keepalived-lite-base
    fi
    cp /tmp/steady.conf /tmp/cur.conf
    keepalived -C -n -l -G -f /tmp/cur.conf -p /run/k.pid -c /run/kc.pid > /tmp/k-steady.log 2>&1 &
    pid=$!
    steady keepalived $pid
    echo "LVS-BENCH: keepalived steady log lines: $(wc -l < /tmp/k-steady.log), removals $(grep -c 'Removing service' /tmp/k-steady.log)"
    stop $pid $(cat /run/kc.pid 2>/dev/null)
    floor_steady
}

# more_lines FILE N: FILE has more than N lines.
more_lines() { [ "$(wc -l < "$1")" -gt "$2" ]; }

# accepts PORT: the connections the acceptor on PORT has accepted so far
# (it appends a line per SIGUSR1).
accepts() {
    before=$(wc -l < "/tmp/acc$1.out")
    kill -USR1 "$(cat /run/acc$1.pid)"
    until_true 10 more_lines "/tmp/acc$1.out" "$before" || return
    tail -n 1 "/tmp/acc$1.out" | cut -d' ' -f2
}

# acceptor_cpu PORT: CPU ticks of the acceptor on PORT so far (the part
# of a loopback connection the kernel charges to the server's side).
acceptor_cpu() { cpu "$(cat /run/acc$1.pid)" | awk '{ print $1 + $2 }'; }

# floor_args NAME: bench-floor's MODE and WAKEUPS for a program named
# floor[-MODE][-bWAKEUPS] (floor: fin 0; floor-reuse-b10: reuse 10).
floor_args() {
    m=${1#floor}
    b=0
    case $m in *-b[0-9]*) b=${m##*-b}; m=${m%-b*} ;; esac
    m=${m#-}
    echo "${m:-fin} $b"
}

# launch NAME K: starts program NAME as the K-th of a side-by-side run
# (virtual servers in 10.(99+K).x.x, checks to its acceptor on 8080+K):
# floor[-MODE][-bWAKEUPS] (bench-floor, see floor_args), keepalived,
# keepalived-lite-base, or any other name for /bin/keepalived-lite.
launch() {
    port=$((8080 + $2))
    case $1 in
        floor*) bench-floor $port $((n * 4)) $(floor_args "$1") & return ;;
        keepalived)
            gen 0 1 $((99 + $2)) $port > /tmp/$1.conf
            keepalived -C -n -l -G -f /tmp/$1.conf -p /run/k.pid -c /run/kc.pid > /tmp/$1.log 2>&1 &
            return ;;
        keepalived-lite-base) bin=keepalived-lite-base ;;
        *) bin=keepalived-lite ;;
    esac
    gen 0 1 $((99 + $2)) $port > /tmp/$1.conf
    # Each keepalived-lite has its own pid files and control socket, or
    # the second would refuse to start.
    $bin -C -n -l -f /tmp/$1.conf -p /run/$1.pid -c /run/$1c.pid --control-socket /run/$1.sock > /tmp/$1.log 2>&1 &
}

# side_by_side ROUNDS PROGRAMS: the programs (comma-separated) all at
# once, ROUNDS windows.
side_by_side() {
    progs=
    k=1
    for name in $(echo "$2" | tr , ' '); do
        progs="$progs $name:$((8080 + k))"
        k=$((k + 1))
    done
    for p in $progs; do
        bench-acceptor ${p#*:} >> /tmp/acc${p#*:}.out &
        echo $! > /run/acc${p#*:}.pid
    done
    pids=
    daemons=0
    k=1
    for p in $progs; do
        launch "${p%:*}" $k
        pids="$pids $!"
        case ${p%:*} in floor*) ;; *) daemons=$((daemons + 1)) ;; esac
        k=$((k + 1))
    done
    want=$((n * 5 * daemons))
    if ! until_true 120 full; then
        echo "LVS-BENCH: FAIL table not full: $(ipvsadm -S -n | wc -l) of $want"
        for p in $progs; do tail -n 3 /tmp/${p%:*}.log 2>/dev/null; done
    fi
    sleep 20
    r=1
    while [ "$r" -le "$1" ]; do
        a0=; for p in $progs; do a0="$a0 $(accepts "${p#*:}")"; done
        c0=; for pid in $pids; do c0="$c0 $(cpu $pid | tr ' ' ,)"; done
        s0=; for p in $progs; do s0="$s0 $(acceptor_cpu "${p#*:}")"; done
        i0=$(idle); t0=$(now)
        sleep "$window"
        c1=; for pid in $pids; do c1="$c1 $(cpu $pid | tr ' ' ,)"; done
        s1=; for p in $progs; do s1="$s1 $(acceptor_cpu "${p#*:}")"; done
        i1=$(idle); w=$(elapsed "$t0")
        echo "LVS-BENCH: side-by-side window $r services=$n window_s=$w guest_idle_s=$(awk -v a="$i0" -v b="$i1" 'BEGIN { printf "%.2f", (b - a) / 100 }')"
        k=1
        for p in $progs; do
            a=$(($(accepts "${p#*:}") - $(echo $a0 | cut -d' ' -f$k)))
            b=$(echo $c0 | cut -d' ' -f$k | tr , ' ')
            e=$(echo $c1 | cut -d' ' -f$k | tr , ' ')
            srv=$(($(echo $s1 | cut -d' ' -f$k) - $(echo $s0 | cut -d' ' -f$k)))
            echo "$b $e $a $srv" | awk -v name="${p%:*}" '{ u = ($3 - $1) / 100; s = ($4 - $2) / 100; printf "LVS-BENCH:   %s cpu_s=%.2f user_s=%.2f sys_s=%.2f checks=%d cpu_ms_per_check=%.3f acceptor_cpu_s=%.2f\n", name, u + s, u, s, $5, $5 ? (u + s) * 1000 / $5 : 0, $6 / 100 }'
            k=$((k + 1))
        done
        r=$((r + 1))
    done
    for p in $progs; do
        f=/tmp/${p%:*}.log
        [ -f $f ] && echo "LVS-BENCH: $f lines $(wc -l < $f), removals $(grep -c 'Removing service' $f)"
    done
    stop $pids $(cat /run/kc.pid 2>/dev/null)
    rm -f /run/k.pid /run/kc.pid
    for p in $progs; do kill -KILL "$(cat /run/acc${p#*:}.pid)"; done
    rm -f /tmp/acc*.out
}

if [ -n "$steady_only" ]; then
    kill -KILL "$acc"
    for size in $(echo "$sizes" | tr , ' '); do
        setn "$size"
        side_by_side "$small" "$programs"
    done
    echo "LVS-VM: done"
    exit 0
fi
gen 0 60 > /tmp/base.conf
gen 1 60 > /tmp/edit.conf
echo "LVS-BENCH: configs ready at $(now) (n=$n)"

# keepalived-lite: start-up and reload.
cp /tmp/base.conf /tmp/cur.conf
t0=$(now)
keepalived-lite -C -n -l -f /tmp/cur.conf --metrics-listen 127.0.0.1:9650 > /tmp/lite.log 2>&1 &
pid=$!
echo "LVS-BENCH: keepalived-lite services=$n start_s=$(timed last_full full)"
sleep 5
metric_ops > /tmp/ops0
lines0=$(wc -l < /tmp/lite.log)
cp /tmp/edit.conf /tmp/cur.conf
t0=$(now)
kill -HUP $pid
echo "LVS-BENCH: keepalived-lite services=$n reload_s=$(timed last_edited edited)"
sleep 5
metric_ops > /tmp/ops1
echo "LVS-BENCH: keepalived-lite reload operations (before, after):"
cat /tmp/ops0 /tmp/ops1
echo "LVS-BENCH: keepalived-lite health lines after SIGHUP: $(tail -n +$((lines0 + 1)) /tmp/lite.log | grep -c -e 'Removing service' -e 'Adding service' -e 'failed' -e 'success')"
tail -n +$((lines0 + 1)) /tmp/lite.log | head -5
stop $pid

both_steady

# keepalived: start-up and reload.
cp /tmp/base.conf /tmp/cur.conf
t0=$(now)
keepalived -C -n -l -G -f /tmp/cur.conf -p /run/k.pid -c /run/kc.pid > /tmp/k.log 2>&1 &
pid=$!
echo "LVS-BENCH: keepalived services=$n start_s=$(timed last_full full)"
sleep 5
cp /tmp/edit.conf /tmp/cur.conf
t0=$(now)
kill -HUP $pid
# Bounded by the clock, not by a number of polls.
t=
while [ -z "$t" ]; do
    if last_edited; then
        t=$(elapsed "$t0")
        edited || t="$t (not every edit yet)"
    elif [ "$(elapsed "$t0" | cut -d. -f1)" -ge "$cap" ]; then
        t=">$(elapsed "$t0")"
    else
        sleep 0.2
    fi
done
echo "LVS-BENCH: keepalived services=$n reload_s=$t"
stop $pid $(cat /run/kc.pid 2>/dev/null)

if [ -n "$small" ]; then
    setn "$small"
    gen 0 1 > /tmp/steady.conf
    both_steady
fi
echo "LVS-VM: done"
