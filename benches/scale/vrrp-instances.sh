#!/usr/bin/env bash
# Scale benchmark: 1,000 vrrp_instances (4 veth interfaces x 250 VRIDs, all
# MASTER, one VIP each; VRRPv2 with PASS auth and advert_int 1, or with -3
# VRRPv3 without auth and advert_int 0.1) in one network namespace, run by
# keepalived 2.2.7 and by keepalived-lite on the same file, each in a fresh,
# identical namespace, PAIRS times alternating (A B A B). Prints CPU over
# the measured window, RSS, open fds and installed VIPs for both, and the
# ratios lite/keepalived per pair.
#
# Needs root, iproute2 and keepalived 2.2.x. See benches/scale/README.md.
# Usage: benches/scale/vrrp-instances.sh [-w WINDOW_S] [-s SETTLE_S]
#        [-r READY_TIMEOUT_S] [-i IFACES] [-n VRIDS] [-p PAIRS] [-3]
#        [-a ADVERT_INT] [-b] [-m SCRAPE_S] [-k]
#   -3: vrrp_version 3, advert_int 0.1 (unless -a), no authentication.
#   -b: state BACKUP and priority = VRID (at most 254): each instance
#       becomes master after its own Master_Down_Interval, so the advert
#       timers are spread over the interval instead of shared.
#   -m: also run keepalived-lite with --metrics-listen: a window without
#       scrapes, then a window scraped every SCRAPE_S seconds (Prometheus'
#       default is 15): the endpoint's CPU cost against the plain run and
#       against its own unscraped window, the metrics thread's CPU per
#       scrape, and each scrape's time and size, in a second table.
#   -k: reuse target/release/keepalived-lite instead of building it.
set -euo pipefail
cd "$(dirname "$0")/../.."

window=30 settle=10 ready_timeout=120 ifaces=4 vrids=250 build=1 pairs=1
version=2 advert_int="" spread=0 scrape=0
while getopts "w:s:r:i:n:p:a:m:3bkh" o; do
  case $o in
    w) window=$OPTARG ;; s) settle=$OPTARG ;; r) ready_timeout=$OPTARG ;;
    i) ifaces=$OPTARG ;; n) vrids=$OPTARG ;; p) pairs=$OPTARG ;;
    a) advert_int=$OPTARG ;; 3) version=3 ;; b) spread=1 ;; k) build=0 ;;
    m) scrape=$OPTARG ;;
    *) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 2 ;;
  esac
done
((ifaces >= 1 && ifaces <= 100 && vrids >= 1 && vrids <= 255)) || {
  echo "need 1 <= IFACES <= 100 and 1 <= VRIDS <= 255" >&2; exit 2; }
((pairs >= 1)) || { echo "need PAIRS >= 1" >&2; exit 2; }
if [[ -z $advert_int ]]; then
  advert_int=1; ((version == 3)) && advert_int=0.1
fi
total=$((ifaces * vrids))
lite=$PWD/target/release/keepalived-lite
if ((build)); then
  nice cargo build --release -q -p keepalived-lite --bin keepalived-lite
fi
[[ -x $lite ]] || { echo "missing $lite" >&2; exit 1; }
command -v keepalived >/dev/null || { echo "keepalived not found" >&2; exit 1; }

# Unique per run: several runs (or other users of the machine) never collide.
tag="kls$$"
work=$(mktemp -d)
namespaces=()
daemon_ns=""

# A sleep that a signal interrupts at once (the trap runs, then cleanup).
nap_pid=""
nap() { sleep "$1" & nap_pid=$!; wait "$nap_pid"; }

# Every process in $1, so a forked child is counted and killed too.
ns_pids() { ip netns pids "$1" 2>/dev/null || true; }

stop_ns() {
  local ns=$1 pids
  pids=$(ns_pids "$ns")
  [[ -n $pids ]] && kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 50); do
    [[ -z $(ns_pids "$ns") ]] && break
    sleep 0.2
  done
  pids=$(ns_pids "$ns")
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
  # Deleting a namespace does not end the processes in it: wait for them.
  for _ in $(seq 25); do
    [[ -z $(ns_pids "$ns") ]] && break
    sleep 0.2
  done
}

cleanup() {
  local ns
  [[ -n $nap_pid ]] && kill "$nap_pid" 2>/dev/null || true
  for ns in "${namespaces[@]}"; do
    stop_ns "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  namespaces=()
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The configuration: interface k (k = 0..IFACES-1) is veth$k with primary
# 192.168.$((k+1)).1/24; VRID v on it owns VIP 10.$((100+k)).0.$v/32.
conf=$work/keepalived.conf
{
  echo "! benches/scale/vrrp-instances.sh: $ifaces interfaces x $vrids VRIDs"
  printf 'global_defs {\n    router_id SCALE\n'
  ((version == 3)) && printf '    vrrp_version 3\n'
  printf '}\n\n'
  for ((k = 0; k < ifaces; k++)); do
    for ((v = 1; v <= vrids; v++)); do
      state=MASTER prio=200
      ((spread)) && state=BACKUP prio=$((v < 254 ? v : 254))
      printf 'vrrp_instance VI_%d_%d {\n    state %s\n    interface veth%d\n' "$k" "$v" "$state" "$k"
      printf '    virtual_router_id %d\n    priority %d\n    advert_int %s\n' "$v" "$prio" "$advert_int"
      # VRRPv3 has no authentication (RFC 9568); keepalived ignores it there.
      ((version == 2)) &&
        printf '    authentication {\n        auth_type PASS\n        auth_pass p%d_%d\n    }\n' "$k" "$v"
      printf '    virtual_ipaddress {\n        10.%d.0.%d/32\n    }\n}\n\n' $((100 + k)) "$v"
    done
  done
} >"$conf"

# A daemon namespace with veth0..veth(N-1) whose peers sit in a silent
# second namespace: the daemon hears only its own traffic.
make_lab() {
  local ns=$1 peer=$1-p k
  ip netns add "$ns"; namespaces+=("$ns")
  ip netns add "$peer"; namespaces+=("$peer")
  ip -n "$ns" link set lo up
  for ((k = 0; k < ifaces; k++)); do
    ip -n "$ns" link add "veth$k" type veth peer name "peer$k" netns "$peer"
    ip -n "$ns" addr add "192.168.$((k + 1)).1/24" dev "veth$k"
    ip -n "$peer" addr add "192.168.$((k + 1)).2/24" dev "peer$k"
    ip -n "$ns" link set "veth$k" up
    ip -n "$peer" link set "peer$k" up
  done
}

vip_count() {
  # stderr: "Dump was interrupted" while addresses change; polled again anyway.
  ip -n "$1" -4 -o addr show 2>/dev/null | grep -cE 'inet 10\.(1[0-9][0-9])\.0\.[0-9]+/32' || true
}

# CPU over the window: with perf, task-clock of every process in the
# namespace counted for exactly the window (nanoseconds); else utime+stime
# from /proc at both ends (clock ticks: 10 ms steps).
have_perf=0
perf stat -e task-clock -x, -o /dev/null -- true >/dev/null 2>&1 && have_perf=1

# utime+stime in clock ticks of every process in the namespace, as "pid ticks".
cpu_sample() {
  local p s f
  for p in $(ns_pids "$1"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    # Fields after "pid (comm) ": state is index 0, utime 11, stime 12.
    read -ra f <<<"${s##*) }"
    echo "$p $((f[11] + f[12]))"
  done
}

# Ticks used between two samples: a process present in both counts its
# difference, one born in between counts whole.
cpu_delta() {
  awk 'NR == FNR { a[$1] = $2; next } { d += $2 - ($1 in a ? a[$1] : 0) } END { print d + 0 }' "$1" "$2"
}

# sum_kib NS FIELD: FIELD of /proc/PID/status (VmRSS, RssAnon), summed.
sum_kib() {
  local p t=0 kb
  for p in $(ns_pids "$1"); do
    kb=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    t=$((t + ${kb:-0}))
  done
  echo "$t"
}

sum_fds() {
  local p t=0 n
  for p in $(ns_pids "$1"); do
    n=$(ls "/proc/$p/fd" 2>/dev/null | wc -l || true)
    t=$((t + n))
  done
  echo "$t"
}

hz=$(getconf CLK_TCK)
declare -A cpu rss anon fds vips ready procs load metrics_ms

# measure NAME NS CMD...: runs CMD (which lasts the window) and sets
# cpu[NAME], the seconds of CPU every process in NS used meanwhile.
measure() {
  local name=$1 ns=$2; shift 2
  if ((have_perf)); then
    local pids perf_pid
    pids=$(ns_pids "$ns" | paste -sd,)
    perf stat -e task-clock -x, -o "$work/$name.perf" -p "$pids" -- sleep "$window" &
    perf_pid=$!
    "$@" "$window"
    wait "$perf_pid"
    # CSV: msec,unit,event,...; "<not counted>" if nothing ran.
    cpu[$name]=$(awk -F, '$3 ~ /task-clock/ { v = $1 + 0 } END { printf "%.3f", v / 1000 }' "$work/$name.perf")
  else
    cpu_sample "$ns" >"$work/$name.cpu0"
    "$@" "$window"
    cpu_sample "$ns" >"$work/$name.cpu1"
    local ticks
    ticks=$(cpu_delta "$work/$name.cpu0" "$work/$name.cpu1")
    cpu[$name]=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
  fi
}

# The thread named "metrics" of a process in NS, as PID/TID.
metrics_tid() {
  local p t
  for p in $(ns_pids "$1"); do
    for t in /proc/"$p"/task/*; do
      [[ $(cat "$t/comm" 2>/dev/null) == metrics ]] && { echo "$p/${t##*/}"; return; }
    done
  done
}

# A thread's CPU time in nanoseconds (schedstat's first field).
thread_ns() {
  [[ -n $1 ]] && cut -d' ' -f1 "/proc/${1%/*}/task/${1#*/}/schedstat" 2>/dev/null || true
}

# run NAME NS CMD...: starts CMD in NS, waits for readiness and the settle
# period, measures over the window, stops it.
run() {
  local name=$1 ns=$2; shift 2
  make_lab "$ns"
  daemon_ns=$ns
  echo "== $name: starting in $ns" >&2
  ip netns exec "$ns" "$@" >"$work/$name.log" 2>&1 &
  local t0=$EPOCHREALTIME n=0
  while ((${EPOCHREALTIME%.*} - ${t0%.*} < ready_timeout)); do
    n=$(vip_count "$ns")
    ((n >= total)) && break
    [[ -z $(ns_pids "$ns") ]] && { echo "$name exited; log:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  ready[$name]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  echo "== $name: $n/$total VIPs after ${ready[$name]} s; settling $settle s" >&2
  nap "$settle"
  if [[ -n ${scrape_url:-} ]]; then
    # The same daemon unscraped first: the scraped window is compared
    # with it as well as with the plain run.
    measure "$name-idle" "$ns" nap
    local tid t0 t1
    tid=$(metrics_tid "$ns")
    t0=$(thread_ns "$tid")
    measure "$name" "$ns" scrape_for "$ns" "$work/$name.scrapes"
    t1=$(thread_ns "$tid")
    metrics_ms[$name]=$(awk -v a="$t0" -v b="$t1" -v n="$(grep -vc failed "$work/$name.scrapes" || true)" \
      'BEGIN { if (a != "" && b != "" && n > 0) printf "%.2f", (b - a) / 1e6 / n; else print "-" }')
  else
    measure "$name" "$ns" nap
  fi
  # The machine's 1-minute load average at the end of the window.
  load[$name]=$(cut -d' ' -f1 /proc/loadavg)
  rss[$name]=$(sum_kib "$ns" VmRSS)
  # Anonymous memory alone: file-backed pages (binary, libraries) leave
  # RSS when the page cache is under pressure, so VmRSS moves with load.
  anon[$name]=$(sum_kib "$ns" RssAnon)
  fds[$name]=$(sum_fds "$ns")
  vips[$name]=$(vip_count "$ns")
  procs[$name]=$(ns_pids "$ns" | wc -l)
  echo "== $name: done, stopping" >&2
  stop_ns "$ns"
}

# scrape_for NS FILE SECONDS: scrapes $scrape_url every $scrape s for
# SECONDS, one line per scrape to FILE: seconds taken and bytes. curl is
# not in the namespace when the CPU count starts, so only the daemon's
# side is counted.
scrape_for() {
  local end=$((${EPOCHREALTIME%.*} + $3))
  : >"$2"
  while ((${EPOCHREALTIME%.*} < end)); do
    ip netns exec "$1" curl -s -o /dev/null -w '%{time_total} %{size_download}\n' \
      "$scrape_url" >>"$2" || echo "failed 0" >>"$2"
    nap "$scrape"
  done
}

added() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%+.1f%%", (b - a) * 100 / a; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

for ((p = 1; p <= pairs; p++)); do
  run "k$p" "$tag-k$p" keepalived -P -n -l -f "$conf" -p "$work/k.pid" -r "$work/k-vrrp.pid"
  # Its own control socket, so its listener thread always runs (as in a
  # deployment) and never collides with another daemon's default one.
  run "l$p" "$tag-l$p" "$lite" -P -f "$conf" -p "$work/l.pid" -r "$work/l-vrrp.pid" \
    --control-socket "$work/l.sock"
  if ((scrape > 0)); then
    scrape_url=http://127.0.0.1:9650/metrics
    run "m$p" "$tag-m$p" "$lite" -P -f "$conf" -p "$work/m.pid" -r "$work/m-vrrp.pid" \
      --control-socket "$work/m.sock" --metrics-listen 127.0.0.1:9650
    scrape_url=""
  fi
done

echo
timers=shared; ((spread)) && timers="spread (state BACKUP, priority = VRID)"
echo "$total vrrp_instances ($ifaces interfaces x $vrids VRIDs), VRRPv$version, advert_int $advert_int, timers $timers, window $window s after $settle s settle, $pairs pair(s) keepalived then keepalived-lite, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| pair | CPU s over ${window} s: keepalived 2.2.7 | keepalived-lite | lite/keepalived | RSS MiB: keepalived | lite | lite/keepalived | anon MiB: keepalived / lite | open fds: keepalived / lite | processes: keepalived / lite | VIPs: keepalived / lite | s to all VIPs: keepalived / lite | load avg: keepalived / lite |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for ((p = 1; p <= pairs; p++)); do
  k=k$p l=l$p
  echo "| $p | ${cpu[$k]} | ${cpu[$l]} | $(ratio "${cpu[$l]}" "${cpu[$k]}") | $(mb "${rss[$k]}") | $(mb "${rss[$l]}") | $(ratio "${rss[$l]}" "${rss[$k]}") | $(mb "${anon[$k]}") / $(mb "${anon[$l]}") | ${fds[$k]} / ${fds[$l]} | ${procs[$k]} / ${procs[$l]} | ${vips[$k]} / ${vips[$l]} of $total | ${ready[$k]} / ${ready[$l]} | ${load[$k]} / ${load[$l]} |"
done
if ((scrape > 0)); then
  echo
  echo "keepalived-lite with --metrics-listen (third run of each pair): a ${window} s window unscraped, then a ${window} s window scraped every $scrape s; CPU by $( ((have_perf)) && echo 'perf task-clock' || echo '/proc ticks')"
  echo
  echo "| pair | CPU s over ${window} s: lite | lite + endpoint, unscraped | lite + endpoint, scraped | added vs lite | added vs unscraped | metrics thread ms per scrape | scrapes | scrape ms: median / max | bytes |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for ((p = 1; p <= pairs; p++)); do
    l=l$p m=m$p f=$work/m$p.scrapes
    times=$(awk '$1 != "failed" { print $1 * 1000 }' "$f" | sort -n)
    n=$(grep -vc failed "$f" || true)
    med=$(echo "$times" | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)]; else print "-" }')
    max=$(echo "$times" | tail -n 1 | awk '{ printf "%.1f", $1 }')
    bytes=$(awk '$1 != "failed" { print $2; exit }' "$f")
    echo "| $p | ${cpu[$l]} | ${cpu[$m-idle]} | ${cpu[$m]} | $(added "${cpu[$l]}" "${cpu[$m]}") | $(added "${cpu[$m-idle]}" "${cpu[$m]}") | ${metrics_ms[$m]} | $n of $(wc -l <"$f") | $med / ${max:--} | ${bytes:--} |"
  done
fi
