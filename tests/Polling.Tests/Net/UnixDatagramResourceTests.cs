using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UnixDatagramMisuseTests
{
    [Fact]
    public void Disposed_throws_object_disposed_and_dispose_is_idempotent()
    {
        using var poll = new Poll();
        var (a, b) = UnixDatagram.Pair();
        b.Dispose();
        a.Dispose();
        a.Dispose();

        var error = Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(a, (Token)1, Interest.Readable));
        Assert.Contains("UnixDatagram", error.Message);
        Assert.Throws<ObjectDisposedException>(() => a.TrySend("x"u8, out _));
        Assert.Throws<ObjectDisposedException>(() => a.TrySendTo("x"u8, "/tmp/x", out _));
        Assert.Throws<ObjectDisposedException>(() => a.TryReceive(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => a.TryReceiveFrom(new byte[1], out _, new SocketAddress(AddressFamily.Unix)));
        Assert.Throws<ObjectDisposedException>(() => a.Connect("/tmp/x"));
        Assert.Throws<ObjectDisposedException>(() => a.Shutdown(SocketShutdown.Both));
        Assert.Throws<ObjectDisposedException>(() => a.LocalEndPoint);
        Assert.Throws<ObjectDisposedException>(() => a.TakeError());
        Assert.True(a.Handle.IsClosed);
        Assert.Equal("UnixDatagram(disposed)", a.ToString());
    }

    [Fact]
    public void NullAndBadArguments_throw()
    {
        using var socket = UnixDatagram.Unbound();
        Assert.Throws<ArgumentNullException>(() => UnixDatagram.Bind((string)null!));
        Assert.Throws<ArgumentNullException>(() => UnixDatagram.Bind((UnixDomainSocketEndPoint)null!));
        Assert.Throws<ArgumentNullException>(() => socket.Connect((string)null!));
        Assert.Throws<ArgumentNullException>(() => socket.Connect((UnixDomainSocketEndPoint)null!));
        Assert.Throws<ArgumentNullException>(() => socket.TrySendTo("x"u8, (string)null!, out _));
        Assert.Throws<ArgumentNullException>(() => socket.TrySendTo("x"u8, (UnixDomainSocketEndPoint)null!, out _));
        Assert.Throws<ArgumentNullException>(() => socket.TrySendTo("x"u8, (SocketAddress)null!, out _));
        Assert.Throws<ArgumentNullException>(() => socket.TryReceiveFrom(new byte[1], out _, (SocketAddress)null!));
        Assert.Throws<ArgumentNullException>(() => ((ISource)socket).Register(null!, (Token)1, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.Shutdown((SocketShutdown)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.SendBufferSize = 0);
        var error = Assert.Throws<ArgumentException>(() => socket.TrySendTo("x"u8, "bad\0path", out _));
        Assert.Contains("NUL", error.Message);
    }

    [Fact]
    public void SocketAddressTooSmall_throws_and_the_datagram_stays_queued()
    {
        var (a, b) = UnixDatagram.Pair();
        using (a)
        using (b)
        {
            Assert.True(a.TrySend("queued"u8, out _));
            var error = Assert.Throws<ArgumentException>(() => b.TryReceiveFrom(new byte[16], out _, new SocketAddress(AddressFamily.InterNetwork)));
            Assert.Contains("new SocketAddress(AddressFamily.Unix)", error.Message);
            Assert.True(b.TryReceiveFrom(new byte[16], out int n, new SocketAddress(AddressFamily.Unix)));
            Assert.Equal(6, n);
        }
    }
}

[Collection(nameof(DescriptorCounting))]
public sealed class UnixDatagramDescriptorTests
{
    [Fact]
    public void TenThousandPairAndUnboundCycles_leak_no_descriptors()
    {
        using var poll = new Poll();
        for (int i = 0; i < 100; i++)
        {
            var (a, b) = UnixDatagram.Pair();
            a.Dispose();
            b.Dispose();
        }

        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized
        var sockets = new List<UnixDatagram>(30_000);
        for (int i = 0; i < 10_000; i++)
        {
            var (a, b) = UnixDatagram.Pair();
            poll.Registry.Register(a, (Token)i, Interest.Readable);
            a.Dispose();
            b.Dispose();
            UnixDatagram unbound = UnixDatagram.Unbound();
            unbound.Dispose();
            sockets.Add(a);
            sockets.Add(b);
            sockets.Add(unbound);
        }

        Descriptors.AssertAllClosed(sockets.Select(s => s.Handle), "Unix datagram sockets");
        Descriptors.AssertNoneLeakedSince(before, sockets);
    }

    [Fact]
    public void FailedBinds_leak_no_descriptors()
    {
        string name = "\0polling-dgram-leak-" + Guid.NewGuid().ToString("N");
        using var taken = UnixDatagram.Bind(name);
        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized
        for (int i = 0; i < 1_000; i++)
        {
            Assert.Throws<SocketException>(() => UnixDatagram.Bind(name));
        }

        Descriptors.AssertNoneLeakedSince(before);
    }
}

public sealed class UnixDatagramAllocationTests
{
    [Fact]
    public void SendToPathAndReceiveFromSocketAddress_allocate_nothing()
    {
        string name = "\0polling-dgram-alloc-" + Guid.NewGuid().ToString("N");
        using var server = UnixDatagram.Bind(name);
        using var client = UnixDatagram.Unbound();
        var source = new SocketAddress(AddressFamily.Unix);
        byte[] payload = new byte[64];
        byte[] buffer = new byte[128];

        Run(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                client.TrySendTo(payload, name, out _);
                while (server.TryReceiveFrom(buffer, out _, source))
                {
                }
            }
        }
    }

    [Fact]
    public void ConnectedSendReceive_allocate_nothing()
    {
        var (a, b) = UnixDatagram.Pair();
        using (a)
        using (b)
        {
            byte[] payload = new byte[64];
            byte[] buffer = new byte[128];
            Run(200);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(5_000);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

            void Run(int iterations)
            {
                for (int i = 0; i < iterations; i++)
                {
                    a.TrySend(payload, out _);
                    b.TryPeek(buffer, out _);
                    while (b.TryReceive(buffer, out _))
                    {
                    }
                }
            }
        }
    }
}
