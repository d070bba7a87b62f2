#!/usr/bin/env python3
"""Start-up time to 'listening' and RSS with C idle-then-active connections, for a TcpEcho-style server.

  python3 bench/perf/startup.py [--runs R] [--conns C] -- SERVER-CMD... {port}

Each run starts the server on port 0 ({port} is replaced by 0), measures the time from spawn until it prints its 'listening' line (the median of R
runs is printed), then (last run) opens C connections, echoes 64 bytes on each, and reads VmRSS and VmHWM."""
import socket
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
runs, conns = 10, 100
while args and args[0] != "--":
    if args[0] == "--runs":
        runs = int(args[1]); args = args[2:]
    elif args[0] == "--conns":
        conns = int(args[1]); args = args[2:]
    else:
        sys.exit(f"unknown option {args[0]}")
cmd = args[1:]
times = []
for run in range(runs):
    argv = [a.replace("{port}", "0") for a in cmd]   # port 0: a free port, read back from the 'listening' line
    start = time.perf_counter()
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    elapsed = time.perf_counter() - start
    if "listening" not in line:
        server.kill()
        sys.exit(f"server did not print 'listening': {line!r}")
    times.append(elapsed * 1000)
    port = int(line.strip().rsplit(":", 1)[1])
    if run == runs - 1:
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
        for s in socks:
            s.sendall(b"x" * 64)
        for s in socks:
            got = 0
            while got < 64:
                got += len(s.recv(64 - got))
        status = open(f"/proc/{server.pid}/status").read()
        rss = {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in status.splitlines()) if k in ("VmRSS", "VmHWM")}
        threads = len(__import__("os").listdir(f"/proc/{server.pid}/task"))
        for s in socks:
            s.close()
    server.terminate()
    server.wait()
print(f"start-up to 'listening': median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms ({runs} runs)")
print(f"with {conns} connections after one 64-byte echo each: VmRSS {rss['VmRSS'] / 1024:.1f} MB, VmHWM {rss['VmHWM'] / 1024:.1f} MB, threads {threads}")
