// A tour of the Polling API: one Poll, a Waker and a socket registered through SourceFd,
// a worker thread that sends to the socket and wakes the loop, and a loop that switches on tokens.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Polling;

const Token WakeToken = (Token)0;
const Token SocketToken = (Token)1;

using var poll = new Poll();
using var waker = new Waker(poll.Registry, WakeToken);

// Any descriptor can be registered through SourceFd; here a non-blocking UDP socket on loopback.
using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
var socketSource = new SourceFd((int)socket.Handle);
poll.Registry.Register(socketSource, SocketToken, Interest.Readable);
Console.WriteLine($"registered: waker under token {(ulong)WakeToken}, udp {socket.LocalEndPoint} under token {(ulong)SocketToken}");

var mailbox = new ConcurrentQueue<string>();
var worker = new Thread(() =>
{
    using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    for (int i = 1; i <= 3; i++)
    {
        sender.SendTo(Encoding.UTF8.GetBytes($"datagram {i}"), socket.LocalEndPoint!);
        mailbox.Enqueue($"message {i}");
        waker.Wake();
        Thread.Sleep(20); // pacing so the output shows separate waits; correctness never depends on it
    }

    mailbox.Enqueue("quit");
    waker.Wake();
}) { Name = "worker" };
worker.Start();

var events = new Events(16);
var buffer = new byte[1500];
bool running = true;
int waits = 0;
while (running)
{
    int count = poll.Wait(events, TimeSpan.FromSeconds(5));
    waits++;
    if (count == 0)
    {
        Console.WriteLine("timed out waiting for the worker");
        return 1;
    }

    foreach (Event ev in events)
    {
        Console.WriteLine($"wait {waits}: {ev}");
        switch (ev.Token)
        {
            case WakeToken:
                // Wakes coalesce: drain the whole mailbox on every wake event.
                while (mailbox.TryDequeue(out string? message))
                {
                    Console.WriteLine($"  mailbox: {message}");
                    running &= message != "quit";
                }

                break;

            case SocketToken:
                // Edge-triggered: read until the socket has nothing more.
                while (socket.Available > 0)
                {
                    int n = socket.Receive(buffer);
                    Console.WriteLine($"  socket: {Encoding.UTF8.GetString(buffer, 0, n)}");
                }

                break;
        }
    }
}

worker.Join();
poll.Registry.Deregister(socketSource);
Console.WriteLine($"done after {waits} waits");
return 0;
