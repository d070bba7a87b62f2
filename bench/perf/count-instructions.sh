#!/usr/bin/env bash
# count-instructions.sh: user-space instructions per echo round trip of a server, noise-free.
#
#   bench/perf/count-instructions.sh [--conns C] [--size S] [--pipeline K] [--seconds T] [--warmup W] -- SERVER-COMMAND...
#
# The server runs under valgrind's callgrind with instrumentation off; after W seconds of echo-load traffic
# (start-up, JIT, connection set-up excluded) instrumentation is switched on for T seconds of traffic and off
# again. The result is the instructions executed in user space (Ir: the server's code, the runtime, libc —
# not the kernel) divided by the number of echoes it sent in that window, counted exactly as the calls to
# libc's send(), or to libc's syscall() made for Polling's send on x86-64 (see the end); every echo
# in these configs is one send. Also prints the calls to recv/epoll_wait per round
# trip and the top functions (inclusive), so two servers can be compared line by line.
# Machines without a hardware PMU (VMs: `perf stat -e instructions` is "not supported") need this route;
# valgrind slows the server ~30-60x, so batches per epoll_wait are larger than at full speed — compare
# servers at the same config, and use 1x64 (one event per wait) for the per-event path.
# NativeAOT: valgrind 3.19 cannot read clang's DWARF 5 (it gives up on TcpEcho.dbg) but needs the symbol table
# for names; keep the symbols and drop the DWARF in a copy:
#   cp -r bench/out/tcpecho-aot bench/out/tcpecho-aot-sym && cd bench/out/tcpecho-aot-sym &&
#   objcopy --strip-debug TcpEcho.dbg TcpEcho.dbg.new && mv TcpEcho.dbg.new TcpEcho.dbg &&
#   objcopy --remove-section=.gnu_debuglink --add-gnu-debuglink=TcpEcho.dbg TcpEcho
# JIT: the runtime's perf map
# (DOTNET_PerfMapEnabled=1, set by default here) names the JIT-compiled code.
# SERVER-COMMAND gets the port appended. Needs valgrind (apt-get install valgrind) and bench/out/bin/echo-load.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
CONNS=1 SIZE=64 PIPE=1 SECONDS_=10 WARM=4 TOP=25
while [ $# -gt 0 ]; do
    case "$1" in
    --conns) CONNS=$2; shift 2 ;; --size) SIZE=$2; shift 2 ;; --pipeline) PIPE=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;; --warmup) WARM=$2; shift 2 ;; --top) TOP=$2; shift 2 ;;
    --) shift; break ;; *) echo "usage: see the header of $0" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "no server command" >&2; exit 2; }
work=$(mktemp -d /tmp/count-instr.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DOTNET_PerfMapEnabled=${DOTNET_PerfMapEnabled:-1} valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" --trace-children=no \
    "$@" "$port" > "$work/server.log" 2>&1 &
vpid=$!
trap 'kill -KILL $vpid 2>/dev/null || true' EXIT
for i in $(seq 600); do
    kill -0 $vpid 2>/dev/null || { echo "the server died under valgrind:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null && break
    sleep 0.1
done
"$HERE/out/bin/echo-load" --port "$port" --conns "$CONNS" --size "$SIZE" --pipeline "$PIPE" \
    --warmup 0 --seconds $((WARM + SECONDS_ + 2)) > "$work/load.txt" &
lpid=$!
sleep "$WARM"
callgrind_control -i on "$vpid" > /dev/null 2>&1
sleep "$SECONDS_"
callgrind_control -i off "$vpid" > /dev/null 2>&1
wait $lpid || true
callgrind_control -d "$vpid" > /dev/null 2>&1
sleep 1
kill -TERM $vpid 2>/dev/null || true
wait $vpid 2>/dev/null || true
trap - EXIT
out=$(ls -S "$work"/cg.out* | head -1)
map=/tmp/perf-$vpid.map; [ -f "$map" ] || map=
python3 - "$out" "$TOP" "$*" "$CONNS" "$SIZE" "$PIPE" "$map" <<'PY'
import re, sys, collections, bisect
path, top, cmd, conns, size, pipe, perfmap = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
jit = []   # (start, end, name) from the runtime's perf map (DOTNET_PerfMapEnabled=1): names for JIT-compiled code
if perfmap:
    for l in open(perfmap, errors='replace'):
        a, n, rest = l.rstrip('\n').split(' ', 2)
        jit.append((int(a, 16), int(a, 16) + int(n, 16), rest))
    jit.sort()
starts = [j[0] for j in jit]
def resolve(f):
    if not jit or not re.fullmatch(r'0x[0-9a-f]+', f or ''): return f
    a = int(f, 16); i = bisect.bisect_right(starts, a) - 1
    return jit[i][2] if i >= 0 and a < jit[i][1] else f
names = {}; calls = collections.Counter(); callers = collections.Counter(); incl = collections.Counter(); self_ = collections.Counter()
total = 0; fn = None; cfn = None; pending = None
def name(kind, s):
    m = re.match(r'\((\d+)\)(?: (.*))?', s)
    if not m: return s
    if m.group(2): names[(kind, m.group(1))] = m.group(2)
    return names.get((kind, m.group(1)), m.group(1))
for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        if line.startswith('fn='): fn = name('fn', line[3:]); continue
        if line.startswith('cfn='): cfn = name('fn', line[4:]); continue
        if line.startswith('calls='): pending = int(line[6:].split()[0]); continue
        if line.startswith(('summary:', 'totals:')): total = max(total, int(line.split()[1])); continue
        if line and (line[0].isdigit() or line[0] in '+-*'):
            parts = line.split()
            ir = int(parts[1]) if len(parts) > 1 and parts[1].lstrip('-').isdigit() else 0
            if pending is not None:
                calls[cfn] += pending; incl[cfn] += ir
                if cfn == 'syscall': callers[resolve(fn)] += pending   # Polling's recv/send on x86-64: syscall()
                pending = None
            else:
                self_[resolve(fn)] += ir
        elif line.startswith(('ob=', 'fl=', 'fi=', 'fe=', 'cob=', 'cfi=', 'cfl=')): pass
# libc's send()/recv()/epoll_wait(), or libc's syscall() — Polling's recv/send/epoll_wait on x86-64 — told apart by
# the function that called it: the syscall_sendto / _recvfrom / _epoll_wait imports, or, where NativeAOT binds them
# directly (DirectPInvoke) and inlines them, their callers (SocketCore.Calls.Receive; OutputQueue.WriteTo/FlushTo or
# SocketCore.Calls.Send; NativeMethods.epoll_wait or EpollSelector.Select). A caller none of these names fits is listed.
def via_syscall(pattern): return sum(v for k, v in callers.items() if re.search(pattern, k or ''))
SEND, RECV, WAIT = r'syscall_sendto|Calls__Send$|OutputQueue__WriteTo|OutputQueue__FlushTo', r'syscall_recvfrom|Calls__Receive$', r'syscall_epoll_wait|NativeMethods__epoll_wait$|EpollSelector__Select$'
sends = sum(v for k, v in calls.items() if re.fullmatch(r'(__libc_)?send', k or '')) + via_syscall(SEND)
recvs = sum(v for k, v in calls.items() if re.fullmatch(r'(__libc_)?recv', k or '')) + via_syscall(RECV)
waits = sum(v for k, v in calls.items() if re.fullmatch(r'(__)?epoll_wait', k or '')) + via_syscall(WAIT)
for k, v in callers.items():
    if not any(re.search(p, k or '') for p in (SEND, RECV, WAIT)): print(f'syscall() called {v} times from {k} (not counted)')
if not sends: print('no send() calls counted:', path); sys.exit(1)
print(f'server: {cmd}  config: {conns}x{size}p{pipe}')
print(f'round trips (send calls): {sends}  Ir: {total}  Ir/rt: {total/sends:.0f}  recv/rt: {recvs/sends:.3f}  epoll_wait/rt: {waits/sends:.3f}')
print(f'top {top} functions by self Ir per round trip:')
for f, v in self_.most_common(top): print(f'  {v/sends:8.1f}  {f}')
print(f'= {total/sends:.0f} instructions per round trip ({conns}x{size}p{pipe}, {cmd})')
PY
echo "(callgrind output: $out)" >&2
