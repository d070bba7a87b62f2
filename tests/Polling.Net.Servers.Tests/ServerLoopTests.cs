using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>The blocks together: the README's loop survives a reset client; an echo loop on them allocates nothing per request.</summary>
public class ServerLoopTests
{
    [Fact]
    public void The_readme_loop_lives_on_when_a_client_resets()
    {
        IPEndPoint? endpoint = null;
        using var ready = new ManualResetEventSlim();
        bool running = true;
        Exception? failure = null;
        var loop = new Thread(() =>
        {
            try
            {
                ReadmeLoop.Run(e => { endpoint = e; ready.Set(); }, () => Volatile.Read(ref running));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "readme loop" };
        loop.Start();
        try
        {
            Assert.True(ready.Wait(Deadline));
            EchoOnce(endpoint!, "first");

            // A client that sends and then resets: the server's read or write fails with ConnectionReset.
            for (int i = 0; i < 20; i++)
            {
                using var rude = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                rude.Connect(endpoint!);
                rude.Send(new byte[100_000]);
                rude.LingerState = new LingerOption(true, 0);
            }

            EchoOnce(endpoint!, "still serving");
            Assert.True(loop.IsAlive, $"the loop died: {failure}");
        }
        finally
        {
            Volatile.Write(ref running, false);
            Assert.True(loop.Join(Deadline));
        }

        Assert.Null(failure);
    }

    /// <summary>
    /// An echo loop written with the blocks, driven request by request: after warm-up, Wait, accept, TryGet,
    /// read, Write/Flush, UpdateInterest and the idle restart allocate nothing per request.
    /// </summary>
    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void An_echo_loop_on_the_blocks_allocates_nothing_per_request(PollBackend backend)
    {
        const Token Listener = (Token)0, Retry = (Token)1, Timeouts = (Token)2;
        using var poll = new Poll(backend);
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry);
        using var idle = new IdleTimeouts(TimeSpan.FromMinutes(1));
        poll.Registry.Register(idle, Timeouts, Interest.Readable);
        var table = new ConnectionTable<Conn>((Token)16);
        var events = new Events(64);
        var buffer = new byte[4096];
        using var client = TcpStream.Connect((IPEndPoint)accept.LocalEndPoint);
        byte[] request = new byte[512];
        new Random(3).NextBytes(request);
        byte[] reply = new byte[512];

        Exchange(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exchange(2_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        foreach (KeyValuePair<Token, Conn> entry in table)
        {
            entry.Value.Stream.Dispose();
        }

        void Exchange(int count)
        {
            for (int i = 0; i < count; i++)
            {
                while (!client.TryWrite(request, out _))
                {
                    Turn(TimeSpan.Zero);
                }

                int got = 0;
                while (got < reply.Length)
                {
                    Turn(TimeSpan.FromMilliseconds(10));
                    while (got < reply.Length && client.TryRead(reply.AsSpan(got), out int n))
                    {
                        got += n;
                    }
                }
            }
        }

        void Turn(TimeSpan timeout)
        {
            poll.Wait(events, timeout);
            foreach (Event ev in events)
            {
                switch (ev.Token)
                {
                    case Listener or Retry:
                        while (accept.TryAccept(out TcpStream? stream))
                        {
                            var conn = new Conn(stream);
                            Token token = table.Add(conn);
                            conn.Idle = idle.Start(token);
                            poll.Registry.Register(stream, token, Interest.Readable);
                        }

                        break;
                    case Timeouts:
                        break;
                    default:
                        if (!table.TryGet(ev.Token, out Conn? c))
                        {
                            break;
                        }

                        if (ev.IsWritable)
                        {
                            c.Output.Flush(c.Stream);
                        }

                        while (!c.Output.IsAboveHighWaterMark && c.Stream.TryRead(buffer, out int n) && n > 0)
                        {
                            idle.Restart(ref c.Idle, ev.Token);
                            c.Output.Enqueue(buffer.AsSpan(0, n));
                        }

                        c.Output.Flush(c.Stream);
                        c.Output.UpdateInterest(poll.Registry, c.Stream, ev.Token);
                        break;
                }
            }
        }
    }

    private static void EchoOnce(IPEndPoint endpoint, string text)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Deadline.TotalMilliseconds };
        socket.Connect(endpoint);
        byte[] message = System.Text.Encoding.ASCII.GetBytes(text);
        socket.Send(message);
        var echo = new byte[message.Length];
        int got = 0;
        while (got < echo.Length)
        {
            int n = socket.Receive(echo.AsSpan(got));
            Assert.True(n > 0, "the echo arrives");
            got += n;
        }

        Assert.Equal(message, echo);
    }

    private sealed class Conn(TcpStream stream)
    {
        public TimerKey Idle;

        public TcpStream Stream { get; } = stream;

        public OutputQueue Output { get; } = new();
    }
}
