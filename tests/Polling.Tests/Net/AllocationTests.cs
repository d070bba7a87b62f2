using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;
using static Polling.TestSupport.LoopbackPairs;

namespace Polling.Tests.Net;

/// <summary>The hot path allocates nothing: measured on this thread around warm loops, asserted to be exactly 0.</summary>
public class AllocationTests
{
    private const int Iterations = 10_000;

    [Fact]
    public void Tcp_try_write_and_try_read_allocate_nothing()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        byte[] outgoing = new byte[64];
        byte[] incoming = new byte[256];
        ArraySegment<byte>[] gather = [new(outgoing, 0, 16), new(outgoing, 16, 48)];
        ArraySegment<byte>[] scatter = [new(incoming, 0, 32), new(incoming, 32, 224)];

        RoundTrips(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        void RoundTrips(int count)
        {
            for (int i = 0; i < count; i++)
            {
                bool vectored = (i & 1) == 1;
                int written;
                Assert.True(vectored ? client.TryWrite(gather, out written) : client.TryWrite(outgoing, out written));
                int got = 0;
                while (got < written)
                {
                    if (server.TryPeek(incoming, out _) && (vectored ? server.TryRead(scatter, out int n) : server.TryRead(incoming, out n)))
                    {
                        got += n;
                    }
                }

                server.TryRead(incoming, out _); // would block: the EAGAIN path allocates nothing either
            }
        }
    }

    [Fact]
    public void Unix_try_write_and_try_read_allocate_nothing()
    {
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        using var _b = b;
        byte[] outgoing = new byte[64];
        byte[] incoming = new byte[64];

        RoundTrips(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(Iterations);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void RoundTrips(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Assert.True(a.TryWrite(outgoing, out int written));
                Assert.True(b.TryRead(incoming, out int read));
                if (written != read)
                {
                    Assert.Fail($"wrote {written} but read {read}"); // (Assert.Equal would allocate a comparer)
                }
                Assert.False(b.TryRead(incoming, out _));
            }
        }
    }

    [Fact]
    public void Edge_triggered_loop_with_wait_allocates_nothing()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        poll.Registry.Register(server, (Token)1, Interest.Readable);
        byte[] buffer = new byte[64];

        Loop(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(Iterations);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Loop(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Assert.True(client.TryWrite(buffer, out _));
                bool drained = false;
                while (!drained)
                {
                    poll.Wait(events);
                    foreach (Event ev in events)
                    {
                        while (server.TryRead(buffer, out int n) && n > 0)
                        {
                        }

                        drained = ev.IsReadable;
                    }
                }
            }
        }
    }

    [Fact]
    public void Tcp_echo_server_steady_state_allocates_nothing_per_read_and_write()
    {
        using var server = new TcpEcho.EchoServer(LoopbackAny);
        using var client = Polling.Net.TcpStream.Connect(server.LocalEndPoint);
        byte[] message = new byte[1024];
        new Random(1).NextBytes(message);
        byte[] echo = new byte[1024];

        Exchange(100); // accepts the client, grows nothing further
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exchange(2_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Exchange(int count)
        {
            for (int i = 0; i < count; i++)
            {
                while (!client.TryWrite(message, out _))
                {
                    server.RunOnce(TimeSpan.Zero);
                }

                int got = 0;
                while (got < echo.Length)
                {
                    server.RunOnce(TimeSpan.FromMilliseconds(10));
                    while (got < echo.Length && client.TryRead(echo.AsSpan(got), out int n))
                    {
                        got += n;
                    }
                }
            }
        }
    }
}
