#!/bin/bash
# Echo CPU per active round trip with N idle connections registered vs none, and memory per idle connection.
#
#   bench/perf/idle-echo.sh [--idle N] [--repeat R] [--conns C] [--size S] [--seconds T] -- SERVER-CMD... {port}
#   e.g. bench/perf/idle-echo.sh --idle 10000 -- samples/TcpEcho/bin/Release/net10.0/TcpEcho {port}
#
# The server runs on core 1, echo-load (bench/out/bin/echo-load; bench/build.sh builds it) on core 0. Each of
# R rounds measures C x S echo without idle connections, then with N idle ones held open by idle-holder.py
# (connected, registered with the server, never sending), so drift hits both alike. Prints cpu us/rt and rt/s
# per round and the medians, then the memory N idle connections cost: the server's RSS (managed + native),
# and kernel memory from /proc/slabinfo (TCP sockets of both ends, epoll items, socket inodes, files) and the
# socket buffer pages of /proc/net/sockstat. The machine's other processes change slab counts too: run it quiet.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
load="$here/../out/bin/echo-load"
idle=10000 repeat=3 conns=100 size=64 seconds=2
while [[ $# -gt 0 && $1 != -- ]]; do
    case $1 in
        --idle) idle=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[[ ${1:-} == -- ]] || { echo "usage: $0 [options] -- SERVER-CMD... {port}" >&2; exit 2; }
shift
[[ -x $load ]] || { echo "build the load generator first: bench/build.sh c-epoll" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
port=$((30000 + RANDOM % 20000))
cmd=("${@//\{port\}/$port}")
taskset -c 1 "${cmd[@]}" > /tmp/idle-echo-server.$$.log 2>&1 &
server=$!
holder=
cleanup() { [[ -n $holder ]] && kill "$holder" 2>/dev/null; kill "$server" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
taskset -c 0 "$load" --port "$port" --conns "$conns" --size "$size" --seconds 1 --warmup 0.5 > /dev/null

fds() { ls /proc/$server/fd | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/$server/status; }
slab() { awk -v n="$1" '$1 == n {print $2 * $4}' /proc/slabinfo; }   # active objects x object size, bytes
sockmem() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1) * 4096}' /proc/net/sockstat; }
measure() {
    taskset -c 0 "$load" --port "$port" --conns "$conns" --size "$size" --seconds "$seconds" --warmup 0.5 --server-pid "$server" |
        tr ' ' '\n' | awk -F= '$1 == "srv_cpu_us_per_rt" {c = $2} $1 == "roundtrips_per_s" {r = $2} END {print c, r}'
}
start_holder() {
    local base; base=$(fds)
    coproc HOLD { exec taskset -c 0 python3 "$here/idle-holder.py" "$port" "$idle"; }
    holder=$HOLD_PID
    read -r ready _ <&"${HOLD[0]}"
    [[ $ready == ready ]] || { echo "idle holder failed" >&2; exit 1; }
    for _ in $(seq 400); do (( $(fds) >= base + idle )) && break; sleep 0.05; done   # all accepted + registered
}
stop_holder() {
    local base=$1
    kill "$holder"; wait "$holder" 2>/dev/null || true; holder=
    for _ in $(seq 400); do (( $(fds) <= base )) && break; sleep 0.05; done          # server closed them
}

declare -a none with
for r in $(seq "$repeat"); do
    base=$(fds)
    read -r c0 r0 < <(measure)
    rss0=$(rss_kb); tcp0=$(slab TCP); epi0=$(slab eventpoll_epi); ino0=$(slab sock_inode_cache); filp0=$(slab filp); mem0=$(sockmem)
    start_holder
    rss1=$(rss_kb); tcp1=$(slab TCP); epi1=$(slab eventpoll_epi); ino1=$(slab sock_inode_cache); filp1=$(slab filp); mem1=$(sockmem)
    read -r c1 r1 < <(measure)
    stop_holder "$base"
    none+=("$c0"); with+=("$c1")
    printf 'round %d: none %s us/rt (%s rt/s) | %d idle %s us/rt (%s rt/s) | x %.3f\n' "$r" "$c0" "$r0" "$idle" "$c1" "$r1" "$(echo "$c1 / $c0" | bc -l)"
    printf '  per idle connection: server RSS %.0f B | kernel: TCP socks (both ends) %.0f B, epoll item %.0f B, socket inodes %.0f B, files %.0f B, socket buffers %.0f B\n' \
        "$(echo "($rss1 - $rss0) * 1024 / $idle" | bc -l)" "$(echo "($tcp1 - $tcp0) / $idle" | bc -l)" "$(echo "($epi1 - $epi0) / $idle" | bc -l)" \
        "$(echo "($ino1 - $ino0) / $idle" | bc -l)" "$(echo "($filp1 - $filp0) / $idle" | bc -l)" "$(echo "($mem1 - $mem0) / $idle" | bc -l)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m0=$(median "${none[@]}"); m1=$(median "${with[@]}")
printf 'median cpu us/rt: none %s, %d idle %s, ratio %.3f (%s rounds, %dx%d)\n' "$m0" "$idle" "$m1" "$(echo "$m1 / $m0" | bc -l)" "$repeat" "$conns" "$size"
