using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using Polling.Os;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Api.Tests;

/// <summary>The cases issue 13 found accepted silently: each now throws or is documented as allowed.</summary>
public sealed class SilentCaseTests
{
    private const Token Shared = (Token)7;

    [Fact]
    public void Two_sources_under_one_token_are_allowed_and_both_are_reported()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (a1, a2) = UnixStream.Pair();
        var (b1, b2) = UnixStream.Pair();
        using (a1) using (a2) using (b1) using (b2)
        {
            poll.Registry.Register(a1, Shared, Interest.Readable, Trigger.Level);
            poll.Registry.Register(b1, Shared, Interest.Readable, Trigger.Level);
            a2.TryWrite("a"u8, out _);
            b2.TryWrite("b"u8, out _);

            int reported = 0;
            Loop.Until(poll, events, _ => (reported = events.Count(ev => ev.Token == Shared && ev.IsReadable)) == 2, "two events");
            Assert.Equal(2, reported);
        }
    }

    [Fact]
    public void A_pipe_end_registered_without_its_direction_throws_and_stays_unregistered()
    {
        using var poll = new Poll();
        var (sender, receiver) = Pipe.Create();
        using (sender) using (receiver)
        {
            var e = Assert.Throws<ArgumentException>(() => poll.Registry.Register(receiver, Shared, Interest.Writable));
            Assert.Contains("read end of a pipe", e.Message);
            Assert.Contains("Interest.Readable", e.Message);
            Assert.Throws<ArgumentException>(() => poll.Registry.Register(sender, Shared, Interest.Readable));

            // nothing changed: they register normally afterwards; an extra direction is accepted
            poll.Registry.Register(receiver, Shared, Interest.Readable | Interest.Writable);
            poll.Registry.Register(sender, (Token)8, Interest.Writable);
            Assert.Throws<ArgumentException>(() => poll.Registry.Reregister(receiver, Shared, Interest.Writable));
            poll.Registry.Reregister(receiver, Shared, Interest.Readable);
        }
    }

    [Fact]
    public void After_a_reset_ToString_still_names_the_peer()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        poll.Registry.Register(listener, (Token)0, Interest.Readable);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        poll.Registry.Register(client, (Token)1, Interest.Readable | Interest.Writable);
        TcpStream? server = null;
        Loop.Until(poll, events, _ => listener.TryAccept(out server), "a connection");
        using (server)
        {
            poll.Registry.Register(server!, (Token)2, Interest.Readable);
            string clientAddress = client.LocalEndPoint.ToString();
            client.Linger = TimeSpan.Zero;
            client.Dispose();                                         // RST

            Loop.Until(poll, events, ev => ev.Token == (Token)2, "the reset");
            Assert.Throws<SocketException>(() => server!.TryRead(new byte[8], out _));
            Assert.Throws<SocketException>(() => server!.RemoteEndPoint);   // the kernel forgot the peer ...
            Assert.Contains($"-> {clientAddress})", server!.ToString());      // ... the stream did not
        }
    }

    [Fact]
    public void A_connected_client_still_names_its_peer_after_a_reset()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        poll.Registry.Register(client, (Token)1, Interest.Readable | Interest.Writable);
        Loop.Until(poll, events, _ => client.TryFinishConnect(), "the connect");
        poll.Registry.Register(listener, (Token)0, Interest.Readable);
        TcpStream? server = null;
        Loop.Until(poll, events, _ => listener.TryAccept(out server), "a connection");
        server!.Linger = TimeSpan.Zero;
        server.Dispose();

        Loop.Until(poll, events, ev => ev.Token == (Token)1 && (ev.IsReadClosed || ev.IsError), "the reset");
        Assert.Throws<SocketException>(() => client.TryRead(new byte[8], out _));
        Assert.Contains($"-> {listener.LocalEndPoint})", client.ToString());
    }

    [Fact]
    public void Off_Linux_the_first_descriptor_throws_PlatformNotSupportedException_that_says_why()
    {
        LinuxOnly.Check();                                           // this is Linux: no exception
        PlatformNotSupportedException e = LinuxOnly.NotSupported("Microsoft Windows 10.0.26100");
        Assert.Contains("Linux only", e.Message);
        Assert.Contains("Microsoft Windows", e.Message);
    }
}
