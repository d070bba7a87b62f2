#!/usr/bin/env python3
"""Opens N idle TCP connections to 127.0.0.1:PORT, prints 'ready N' and keeps them open until stdin closes
or it is killed. Used by idle-echo.sh: the server then holds N registered connections that never send."""
import resource
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
held = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    held.append(s)
print(f"ready {len(held)}", flush=True)
sys.stdin.read()
