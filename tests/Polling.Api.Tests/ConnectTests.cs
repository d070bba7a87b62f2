using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Api.Tests;

public sealed class ConnectTests
{
    private const Token Client = (Token)1;

    [Fact]
    public void TryFinishConnect_returns_true_once_the_handshake_finished()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stream = TcpStream.Connect(listener.LocalEndPoint);
        poll.Registry.Register(stream, Client, Interest.Readable | Interest.Writable);

        Loop.Until(poll, events, ev => ev.Token == Client && ev.IsWritable && stream.TryFinishConnect(), "the connect to complete");

        Assert.Equal(listener.LocalEndPoint, stream.RemoteEndPoint);
        Assert.True(stream.TryFinishConnect());                       // stays true
        Assert.True(stream.TryWrite("ping"u8, out int written));
        Assert.Equal(4, written);
    }

    [Fact]
    public void TryFinishConnect_throws_the_librarys_descriptive_exception_when_refused()
    {
        IPEndPoint nobody;
        using (var probe = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            nobody = probe.LocalEndPoint;                              // a port that was just free: nobody listens now
        }

        using var poll = new Poll();
        var events = new Events(8);
        using var stream = TcpStream.Connect(nobody);
        poll.Registry.Register(stream, Client, Interest.Writable);

        SocketException? failure = null;
        Loop.Until(poll, events, ev =>
        {
            try
            {
                Assert.False(stream.TryFinishConnect(), "connected to a port nobody listens on");
                return false;
            }
            catch (SocketException e)
            {
                failure = e;
                return true;
            }
        }, "the refusal");

        Assert.Equal(SocketError.ConnectionRefused, failure!.SocketErrorCode);
        Assert.Contains(nobody.ToString(), failure.Message);
        Assert.Contains("Nothing is listening", failure.Message);

        // The answer does not change: SO_ERROR was consumed, but the stream remembers the failure.
        var again = Assert.Throws<SocketException>(() => stream.TryFinishConnect());
        Assert.Equal(SocketError.ConnectionRefused, again.SocketErrorCode);
    }

    [Fact]
    public void While_the_handshake_runs_TryFinishConnect_is_false_and_Shutdown_throws_instead_of_aborting()
    {
        // A listener whose accept queue is full drops SYNs: connects to it stay in SYN_SENT until a slot frees.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);                                            // room for one connection
        var target = (IPEndPoint)listener.LocalEndPoint!;

        using var first = TcpStream.Connect(target);                   // takes the only slot
        using var filler = TcpStream.Connect(target);                  // make sure the queue is full
        using var pending = TcpStream.Connect(target);
        filler.Dispose();

        Assert.False(pending.TryFinishConnect());
        var shutdown = Assert.Throws<SocketException>(() => pending.Shutdown(SocketShutdown.Send));
        Assert.Equal(SocketError.NotConnected, shutdown.SocketErrorCode);
        Assert.Contains("still being established", shutdown.Message);
        Assert.Contains(target.ToString(), shutdown.Message);
        Assert.False(pending.TryFinishConnect());                      // Shutdown did not abort the attempt

        using var poll = new Poll();
        var events = new Events(8);
        poll.Registry.Register(pending, Client, Interest.Writable);
        using Socket accepted = listener.Accept();                     // frees the slot; the next SYN retry gets in
        Loop.Until(poll, events, ev => ev.Token == Client && pending.TryFinishConnect(), "the pending connect to complete", TimeSpan.FromSeconds(30));
        pending.Shutdown(SocketShutdown.Send);                         // connected now: allowed
    }

    [Fact]
    public void Accepted_streams_and_Unix_streams_are_connected()
    {
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        using var poll = new Poll();
        var events = new Events(8);
        poll.Registry.Register(listener, (Token)0, Interest.Readable);
        TcpStream? server = null;
        Loop.Until(poll, events, _ => listener.TryAccept(out server), "a connection");
        using (server)
        {
            Assert.True(server!.TryFinishConnect());
        }

        var (a, b) = UnixStream.Pair();
        using (a)
        using (b)
        {
            Assert.True(a.TryFinishConnect());
            b.Dispose();
            var e = Assert.Throws<ObjectDisposedException>(() => b.TryFinishConnect());
            Assert.Contains("UnixStream", e.Message);
        }
    }
}
