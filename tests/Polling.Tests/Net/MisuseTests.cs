using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;
using static Polling.TestSupport.LoopbackPairs;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Tests.Net;

/// <summary>Each misuse rule: the exception type, a message that names the thing and what to do, and state left unchanged.</summary>
public class MisuseTests
{
    private const Token First = (Token)1;
    private const Token Second = (Token)2;

    [Fact]
    public void Registering_a_disposed_source_throws_object_disposed()
    {
        using var poll = new Poll();
        var listener = TcpListener.Bind(LoopbackAny);
        listener.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(listener, First, Interest.Readable));
        Assert.Contains("TcpListener", error.Message);
        Assert.Contains("disposed", error.Message);

        var (a, b) = UnixStream.Pair();
        b.Dispose();
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(a, First, Interest.Readable));
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Reregister(a, First, Interest.Readable));
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Deregister(a));

        var unix = UnixListener.Bind("\0polling-misuse-" + Guid.NewGuid().ToString("N"));
        unix.Dispose();
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(unix, First, Interest.Readable));
        Assert.Throws<ObjectDisposedException>(() => unix.TryAccept(out _));
    }

    [Fact]
    public void Disposing_a_registered_source_stops_its_events()
    {
        using var log = new EventLog();
        var (a, b) = UnixStream.Pair();
        using var _b = b;
        log.Registry.Register(a, First, Interest.Readable, Trigger.Level);
        Assert.True(b.TryWrite("data"u8, out _));
        log.WaitFor(First, e => e.IsReadable);
        a.Dispose();
        Assert.Empty(log.Drain(First));

        // The registry forgot it: a new source may reuse the descriptor number and register freely.
        var (c, d) = UnixStream.Pair();
        using var _c = c;
        using var _d = d;
        log.Registry.Register(c, Second, Interest.Readable);
    }

    [Fact]
    public void Invalid_interest_or_trigger_throws_and_registers_nothing()
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(LoopbackAny);
        Assert.Throws<ArgumentException>(() => poll.Registry.Register(listener, First, (Interest)0));
        Assert.Throws<ArgumentException>(() => poll.Registry.Register(listener, First, Interest.Readable, Trigger.Edge | Trigger.Level));
        Assert.Throws<ArgumentException>(() => poll.Registry.Register(listener, First, Interest.Readable, Trigger.Oneshot));
        poll.Registry.Register(listener, First, Interest.Readable);
    }

    [Fact]
    public void Null_arguments_throw_argument_null()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        ISource source = client;
        Assert.Throws<ArgumentNullException>(() => source.Register(null!, First, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentNullException>(() => source.Reregister(null!, First, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentNullException>(() => source.Deregister(null!));
        Assert.Throws<ArgumentNullException>(() => TcpStream.Connect(null!));
        Assert.Throws<ArgumentNullException>(() => UnixStream.Connect((string)null!));
        Assert.Throws<ArgumentNullException>(() => UnixStream.Connect((UnixDomainSocketEndPoint)null!));
    }

    [Fact]
    public void Dispose_is_idempotent_for_every_type()
    {
        var listener = TcpListener.Bind(LoopbackAny);
        listener.Dispose();
        listener.Dispose();
        var (client, server) = TcpPair();
        client.Dispose();
        client.Dispose();
        server.Dispose();
        var (a, b) = UnixStream.Pair();
        a.Dispose();
        a.Dispose();
        b.Dispose();
        var unix = UnixListener.Bind("\0polling-dispose-" + Guid.NewGuid().ToString("N"));
        unix.Dispose();
        unix.Dispose();
        Assert.Equal("UnixListener(disposed)", unix.ToString());
        Assert.Equal("TcpListener(disposed)", listener.ToString());
    }

    [Fact]
    public void A_source_outlives_a_disposed_poll_and_can_join_a_new_one()
    {
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        using var _b = b;
        var first = new Poll();
        first.Registry.Register(a, First, Interest.Readable);
        first.Dispose();

        using var log = new EventLog();
        log.Registry.Register(a, Second, Interest.Readable);
        Assert.True(b.TryWrite("moved"u8, out _));
        log.WaitFor(Second, e => e.IsReadable);
    }

    [Fact]
    public void Connecting_an_IPv6_end_point_from_an_IPv4_only_call_is_not_possible_but_both_families_work()
    {
        // IPv4-mapped addresses go through IPv6 sockets; a plain IPv4 endpoint gets an IPv4 socket.
        using var listener = TcpListener.Bind(LoopbackAny);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        Assert.Equal(AddressFamily.InterNetwork, client.AddressFamily);
    }
}
