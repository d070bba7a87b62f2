#!/usr/bin/env bash
# NativeAOT check (issue 13): publish samples/TcpEcho with PublishAot=true, fail on any IL (trimming/AOT)
# warning, start the native binary and do one echo round trip over TCP, then stop it with SIGTERM (exit 0).
# Needs clang, lld and zlib1g-dev (.ci/run installs them); the ILCompiler package comes from NuGet.
# Run from anywhere:  bash tests/Aot/publish-and-echo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pid=
cleanup() { if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi; rm -rf "$work"; }
trap cleanup EXIT

rid=$(dotnet --info | sed -n 's/^ *RID: *//p' | head -n 1)
start=$SECONDS
dotnet publish samples/TcpEcho -c Release -r "$rid" -p:PublishAot=true -o "$work/bin" 2>&1 | tee "$work/publish.log"
if grep -E 'warning IL[0-9]{4}' "$work/publish.log"; then
  echo "NativeAOT publish of samples/TcpEcho produced IL warnings (above)" >&2
  exit 1
fi
echo "NativeAOT publish: $((SECONDS - start)) s, $(du -h "$work/bin/TcpEcho" | cut -f1) binary ($rid)"

# Start it on a free port and read "listening on 127.0.0.1:PORT" (with a deadline, no polling).
coproc ECHO { exec "$work/bin/TcpEcho" 0; }
pid=$ECHO_PID
IFS= read -r -t 20 line <&"${ECHO[0]}" || { echo "the AOT TcpEcho did not report 'listening on ...'" >&2; exit 1; }
port=${line##*:}
[[ $line == "listening on 127.0.0.1:"* && $port =~ ^[0-9]+$ ]] || { echo "unexpected first line: $line" >&2; exit 1; }

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'hello from NativeAOT\n' >&3
IFS= read -r -t 10 reply <&3 || { echo "no echo from the AOT TcpEcho" >&2; exit 1; }
exec 3>&-
[ "$reply" = "hello from NativeAOT" ] || { echo "echo mismatch: '$reply'" >&2; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || { echo "the AOT TcpEcho exited with $status on SIGTERM (expected 0)" >&2; exit 1; }
echo "NativeAOT TcpEcho: echo round trip on port $port OK, clean exit on SIGTERM"
