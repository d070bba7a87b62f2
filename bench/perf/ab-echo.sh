#!/usr/bin/env bash
# ab-echo.sh: two echo servers measured AT THE SAME TIME, side by side, so that whatever slows the machine down
# (a VM host that changes speed, a neighbour) slows both alike: the ratio B/A stays evidence when absolute rt/s
# does not (on this shared 2-core VM the same C binary varied 30-50 % between rounds a minute apart).
#
#   bench/perf/ab-echo.sh [--quota PCT] [--config CxS|CxSpK] [--seconds T] [--warmup W] [--prewarm P] [--repeat N] \
#                         [--no-swap] 'A-COMMAND {port}' 'B-COMMAND {port}'
#
# Both servers run pinned to core 1, each in its own cgroup capped at PCT % of that core (default 25: together
# they leave the core half idle, so each gets exactly its quota and both are server-bound); two echo-load clients
# run pinned to core 0 at the same time, one per server. Every round starts both servers fresh, pre-warms both
# (P s of 100x64, default 1, as run-echo.sh does), then measures W s warm-up + T s. Prints per round rt/s, p99 and
# server CPU per round trip of each, the ratio B/A, and the geometric mean and median of the ratios over the rounds.
# Check that cli% stays well below 100 (the clients share core 0): otherwise the ratio is squeezed towards 1.
#
# The two slots are not equal: the same c-epoll-min binary as A and as B measured B/A 1.02-1.03 at 100x64 and
# 1.06-1.10 at 1000x64 (2026-12-02), so a fixed assignment flatters whichever server sits in slot 1. The servers
# therefore swap slots every round (A in slot 0 on odd rounds, in slot 1 on even ones; --no-swap keeps A in slot 0,
# for measuring that bias with the same server twice), and the summary's "geomean" over an even number of rounds
# cancels the slot bias: with B/A = t*b in one round and t/b in the next, their geometric mean is t.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
LOAD=$HERE/out/bin/echo-load
QUOTA=25 CONFIG=100x64 SECS=2 WARM=0.5 PREWARM=1 REPEAT=6 SWAP=1
while [ $# -gt 2 ]; do
    [ "$1" = --no-swap ] && { SWAP=0; shift; continue; }
    case "$1" in
    --quota) QUOTA=$2 ;; --config) CONFIG=$2 ;; --seconds) SECS=$2 ;; --warmup) WARM=$2 ;;
    --prewarm) PREWARM=$2 ;; --repeat) REPEAT=$2 ;; *) echo "usage: see the header of $0" >&2; exit 2 ;;
    esac
    shift 2
done
[ $# -eq 2 ] || { echo "usage: see the header of $0" >&2; exit 2; }
[ -x "$LOAD" ] || { echo "$LOAD missing: run bench/build.sh first" >&2; exit 2; }
CMDS=("$1" "$2")
case "$CONFIG" in
[0-9]*x[0-9]*p[0-9]*) cs=${CONFIG%%p*}; LARGS="--conns ${cs%x*} --size ${cs#*x} --pipeline ${CONFIG##*p}" ;;
[0-9]*x[0-9]*) LARGS="--conns ${CONFIG%x*} --size ${CONFIG#*x}" ;;
*) echo "bad --config $CONFIG" >&2; exit 2 ;;
esac
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CG=()
for side in a b; do
    if [ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        d=/sys/fs/cgroup/cpu/ab-echo-$$-$side
        mkdir -p "$d"; echo 10000 > "$d/cpu.cfs_period_us"; echo $((QUOTA * 100)) > "$d/cpu.cfs_quota_us"
    else
        grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control
        d=/sys/fs/cgroup/ab-echo-$$-$side; mkdir -p "$d"; echo "$((QUOTA * 100)) 10000" > "$d/cpu.max"
    fi
    CG+=("$d")
done
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
             for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all; rmdir "${CG[@]}" 2>/dev/null || true' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
echo "ab-echo: A = ${CMDS[0]}"
echo "ab-echo: B = ${CMDS[1]}"
echo "ab-echo: $CONFIG, ${REPEAT} round(s) of ${WARM}+${SECS} s, each server capped at ${QUOTA} % of core 1, clients on core 0; $(uptime)"
printf '%-5s %10s %8s %7s %5s | %10s %8s %7s %5s | %6s\n' round A-rt/s A-p99us A-us/rt A-cli B-rt/s B-p99us B-us/rt B-cli B/A
RATIOS=()
for r in $(seq "$REPEAT"); do
    # slot i (cgroup, start order, client order) runs server SLOT[i]: A first on odd rounds, B first on even ones
    if [ "$SWAP" = 1 ] && [ $((r % 2)) = 0 ]; then SLOT=(1 0); else SLOT=(0 1); fi
    PORTS=()
    for i in 0 1; do
        port=$(free_port); cmd=${CMDS[${SLOT[$i]}]}
        [[ $cmd == *"{port}"* ]] || cmd="$cmd {port}"
        taskset -c 1 bash -c "exec ${cmd//\{port\}/$port}" > /dev/null 2>&1 &
        PIDS+=($!); PORTS+=("$port")
    done
    for i in 0 1; do
        for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"${PORTS[$i]}") 2>/dev/null && break; sleep 0.05; done
        for t in /proc/"${PIDS[$i]}"/task/*; do echo "${t##*/}" > "${CG[$i]}/tasks" 2>/dev/null || echo "${t##*/}" > "${CG[$i]}/cgroup.threads" 2>/dev/null || true; done
        echo "${PIDS[$i]}" > "${CG[$i]}/cgroup.procs" 2>/dev/null || true
    done
    for i in 0 1; do taskset -c 0 "$LOAD" --port "${PORTS[$i]}" --conns 100 --size 64 --seconds "$PREWARM" --warmup 0 > /dev/null 2>&1 & done
    wait $(jobs -p | grep -v -e "${PIDS[0]}" -e "${PIDS[1]}") 2>/dev/null || true
    for i in 0 1; do taskset -c 0 "$LOAD" --port "${PORTS[$i]}" $LARGS --seconds "$SECS" --warmup "$WARM" --server-pid "${PIDS[$i]}" > /tmp/ab-echo-$$-$i 2>&1 & done
    wait $(jobs -p | grep -v -e "${PIDS[0]}" -e "${PIDS[1]}") 2>/dev/null || true
    OUT=("" "")
    for i in 0 1; do OUT[${SLOT[$i]}]=$(cat /tmp/ab-echo-$$-$i); rm -f /tmp/ab-echo-$$-$i; done
    stop_all
    a=$(field roundtrips_per_s "${OUT[0]}"); b=$(field roundtrips_per_s "${OUT[1]}")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')
    RATIOS+=("$ratio")
    [ "${SLOT[0]}" = 0 ] && tag="$r" || tag="$r*"
    printf '%-5s %10s %8s %7s %5s | %10s %8s %7s %5s | %6s\n' "$tag" "$a" "$(field p99_us "${OUT[0]}")" "$(field srv_cpu_us_per_rt "${OUT[0]}")" \
        "$(field cli_cpu_pct "${OUT[0]}")" "$b" "$(field p99_us "${OUT[1]}")" "$(field srv_cpu_us_per_rt "${OUT[1]}")" "$(field cli_cpu_pct "${OUT[1]}")" "$ratio"
done
[ "$SWAP" = 1 ] && echo "ab-echo: rounds marked * ran B in slot 0 and A in slot 1"
printf '%s\n' "${RATIOS[@]}" | sort -g | awk -v c="$CONFIG" '{ l += log($1); v[NR] = $1 } END {
    n = NR; m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
    printf "ab-echo: %s B/A geomean %.3f, median %.3f (min %.3f, max %.3f, n=%d)\n", c, exp(l / n), m, v[1], v[n], n }'
echo "ab-echo: $(uptime)"
