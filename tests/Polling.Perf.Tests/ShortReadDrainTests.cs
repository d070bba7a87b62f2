using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Perf.Tests;

/// <summary>
/// <see cref="TcpStream.TryRead(Span{byte}, out int, out bool)"/>: a short read counts as drained for Edge, and new
/// data after it always raises an event — on epoll natively, on poll(2) because the short read rearms like a would-block.
/// </summary>
public class ShortReadDrainTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private const Token ServerToken = (Token)7;

    public static TheoryData<PollBackend> Backends => new() { PollBackend.Epoll, PollBackend.Poll };

    [Theory]
    [MemberData(nameof(Backends))]
    public void Stopping_at_a_short_read_loses_no_wake_up(PollBackend backend)
    {
        using var poll = new Poll(backend);
        (TcpStream client, TcpStream server) = ConnectedPair();
        using (client)
        using (server)
        {
            poll.Registry.Register(server, ServerToken, Interest.Readable);
            var events = new Events(8);
            byte[] buffer = new byte[4096];
            var random = new Random(12);
            for (int round = 0; round < 300; round++)
            {
                byte[] message = new byte[random.Next(1, 200)];
                random.NextBytes(message);
                Assert.True(client.TryWrite(message, out int written));
                Assert.Equal(message.Length, written);

                int got = 0;
                var clock = Stopwatch.StartNew();
                while (got < message.Length)
                {
                    Assert.True(clock.Elapsed < Deadline, $"round {round} ({backend}): no event for new data after a short-read drain ({got} of {message.Length} bytes)");
                    poll.Wait(events, TimeSpan.FromMilliseconds(100));
                    foreach (Event ev in events)
                    {
                        Assert.Equal(ServerToken, ev.Token);
                        // The documented loop: stop at a short read (no read that returns would-block).
                        while (server.TryRead(buffer, out int n, out bool drained))
                        {
                            Assert.True(n > 0, "no end of stream here");
                            Assert.Equal(message.AsSpan(got, n), buffer.AsSpan(0, n));
                            got += n;
                            if (drained && !ev.IsReadClosed && !ev.IsPriority)
                            {
                                break;
                            }
                        }
                    }
                }

                Assert.Equal(message.Length, got);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_full_buffer_is_not_drained_a_short_read_end_of_stream_and_would_block_are(PollBackend backend)
    {
        using var poll = new Poll(backend);
        (TcpStream client, TcpStream server) = ConnectedPair();
        using (client)
        using (server)
        {
            poll.Registry.Register(server, ServerToken, Interest.Readable);
            Assert.False(server.TryRead(new byte[16], out int none, out bool drained));
            Assert.Equal(0, none);
            Assert.True(drained, "would-block is drained");

            Assert.True(client.TryWrite(new byte[150], out _));
            WaitFor(poll, ev => ev.IsReadable);
            byte[] buffer = new byte[100];
            Assert.True(server.TryRead(buffer, out int n, out drained));
            Assert.Equal(100, n);
            Assert.False(drained, "a read that filled the buffer may have left data");
            Assert.True(server.TryRead(buffer, out n, out drained));
            Assert.Equal(50, n);
            Assert.True(drained, "a short read is drained");

            client.Shutdown(SocketShutdown.Send);
            WaitFor(poll, ev => ev.IsReadClosed || ev.IsReadable);
            Assert.True(server.TryRead(buffer, out n, out drained));
            Assert.Equal(0, n);
            Assert.True(drained, "end of stream is drained");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Data_and_FIN_before_the_wait_are_reported_as_read_closed_so_the_loop_reads_on_to_the_end(PollBackend backend)
    {
        using var poll = new Poll(backend);
        (TcpStream client, TcpStream server) = ConnectedPair();
        using (client)
        using (server)
        {
            poll.Registry.Register(server, ServerToken, Interest.Readable);
            Assert.True(client.TryWrite(new byte[10], out _));
            client.Shutdown(SocketShutdown.Send);

            // Wait until the FIN has arrived, then handle that event the documented way.
            Event ev = WaitFor(poll, e => e.IsReadClosed);
            byte[] buffer = new byte[100];
            int total = 0;
            bool endOfStream = false;
            while (server.TryRead(buffer, out int n, out bool drained))
            {
                if (n == 0)
                {
                    endOfStream = true;
                    break;
                }

                total += n;
                if (drained && !ev.IsReadClosed && !ev.IsPriority)
                {
                    break;
                }
            }

            Assert.Equal(10, total);
            Assert.True(endOfStream, "IsReadClosed keeps the loop reading past the short read to the end of stream");
        }
    }

    [Fact]
    public void The_drain_overload_throws_the_documented_exceptions()
    {
        (TcpStream client, TcpStream server) = ConnectedPair();
        client.Dispose();
        server.Dispose();
        Assert.Throws<ObjectDisposedException>(() => server.TryRead(new byte[4], out _, out _));
    }

    private static Event WaitFor(Poll poll, Func<Event, bool> condition)
    {
        var events = new Events(8);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(100));
            foreach (Event ev in events)
            {
                if (condition(ev))
                {
                    return ev;
                }
            }
        }

        throw new TimeoutException("the expected event did not come within the deadline");
    }

    internal static (TcpStream Client, TcpStream Server) ConnectedPair()
    {
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var poll = new Poll();
        poll.Registry.Register(listener, (Token)1, Interest.Readable, Trigger.Level);
        TcpStream client = TcpStream.Connect(listener.LocalEndPoint);
        var events = new Events(1);
        var clock = Stopwatch.StartNew();
        TcpStream? server;
        while (!listener.TryAccept(out server))
        {
            Assert.True(clock.Elapsed < Deadline, "accept within the deadline");
            poll.Wait(events, TimeSpan.FromMilliseconds(100));
        }

        client.NoDelay = true;
        return (client, server);
    }
}
