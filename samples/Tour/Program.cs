// A tour of the Polling API: one Poll, a Waker and a socket registered through SourceFd,
// a worker thread that sends to the socket and wakes the loop, and a loop that switches on tokens.
// Part 2: the loop as the one place a program waits — messages from async code (ChannelSource), a periodic
// timer (TimerSource) and a POSIX signal (SignalSource) arrive as events like any socket's.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
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

// Part 2: sources beyond sockets.
const Token Messages = (Token)2;
const Token Tick = (Token)3;
const Token Signals = (Token)4;

using var messages = ChannelSource.CreateUnbounded<string>();   // any thread writes, the loop reads
using var tick = new TimerSource();                             // timerfd, monotonic clock
using var signals = new SignalSource(PosixSignal.SIGHUP);       // caught only while registered
poll.Registry.Register(messages, Messages, Interest.Readable);
poll.Registry.Register(tick, Tick, Interest.Readable);
poll.Registry.Register(signals, Signals, Interest.Readable);
tick.SetPeriodic(TimeSpan.FromMilliseconds(30));

_ = Task.Run(async () =>
{
    for (int i = 1; i <= 3; i++)
    {
        await Task.Delay(25);
        await messages.Writer.WriteAsync($"result {i} from async code");
    }

    messages.Writer.Complete();
});

ulong ticks = 0;
bool hangupSent = false;
bool hangupSeen = false;
var partTwo = System.Diagnostics.Stopwatch.StartNew();
while (!messages.IsCompleted || ticks < 3 || !hangupSeen)
{
    if (partTwo.Elapsed > TimeSpan.FromSeconds(10))
    {
        Console.WriteLine("timed out waiting for part 2");
        return 1;
    }

    // A signal can interrupt the wait (EINTR): it then returns 0 events, and the next wait reports the signal.
    poll.Wait(events, TimeSpan.FromSeconds(1));

    foreach (Event ev in events)
    {
        switch (ev.Token)
        {
            case Messages:
                while (messages.TryRead(out string? message))
                {
                    Console.WriteLine($"  channel: {message}");
                }

                if (messages.IsCompleted)
                {
                    Console.WriteLine("  channel: completed by the writer");
                }

                break;

            case Tick:
                if (tick.TryReadExpirations(out ulong count))
                {
                    ticks += count;
                    Console.WriteLine($"  timer: tick x{count} (total {ticks})");
                }

                if (ticks >= 3 && !hangupSent)
                {
                    tick.Cancel();
                    hangupSent = true;
                    Native.kill(Environment.ProcessId, 1);   // SIGHUP to ourselves, as `kill -HUP <pid>` would
                }

                break;

            case Signals:
                while (signals.TryRead(out PosixSignal signal))
                {
                    Console.WriteLine($"  signal: {signal} (e.g. reload the configuration)");
                    hangupSeen = true;
                }

                break;
        }
    }
}

Console.WriteLine("part 2 done");
return 0;

/// <summary>The one libc call the tour needs to send itself a signal.</summary>
internal static class Native
{
    [DllImport("libc", SetLastError = true)]
    internal static extern int kill(int pid, int signal);
}
