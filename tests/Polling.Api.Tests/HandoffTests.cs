using System.Net;
using System.Net.Sockets;
using System.Text;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Api.Tests;

public sealed class HandoffTests
{
    private const Token Listener = (Token)0, Client = (Token)1, Server = (Token)2;

    [Fact]
    public void ToStream_hands_an_accepted_connection_to_a_NetworkStream_that_round_trips()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        poll.Registry.Register(listener, Listener, Interest.Readable);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        poll.Registry.Register(client, Client, Interest.Readable);
        TcpStream? server = null;
        Loop.Until(poll, events, _ => listener.TryAccept(out server), "a connection");
        poll.Registry.Register(server!, Server, Interest.Readable);

        Assert.True(client.TryWrite("ping\n"u8, out _));
        using NetworkStream network = server!.ToStream();
        Assert.Throws<ObjectDisposedException>(() => server.TryRead(new byte[1], out _));
        Assert.True(network.Socket.Blocking);
        network.ReadTimeout = 15_000;

        using var reader = new StreamReader(network, Encoding.ASCII, leaveOpen: true);
        Assert.Equal("ping", reader.ReadLine());                     // data sent before the hand-off is not lost
        network.Write("pong\n"u8);

        var buffer = new byte[16];
        int received = 0;
        Loop.Until(poll, events, ev =>
        {
            Assert.NotEqual(Server, ev.Token);                          // the handed-off stream is deregistered
            while (ev.Token == Client && client.TryRead(buffer.AsSpan(received), out int n) && n > 0)
            {
                received += n;
            }

            return received == 5;
        }, "the reply");
        Assert.Equal("pong\n", Encoding.ASCII.GetString(buffer, 0, received));
    }

    [Fact]
    public async Task ToSocket_gives_a_blocking_Socket_whose_async_calls_work()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        poll.Registry.Register(client, Client, Interest.Writable);
        Loop.Until(poll, events, _ => client.TryFinishConnect(), "the connect");

        using Socket socket = client.ToSocket();
        Assert.True(socket.Blocking);
        Assert.True(socket.Connected);
        Assert.Equal(listener.LocalEndPoint, socket.RemoteEndPoint);
        Assert.Contains("disposed", client.ToString());

        using Socket accepted = await AcceptAsync(poll, events, listener);
        await socket.SendAsync("hello"u8.ToArray());
        var buffer = new byte[5];
        int total = 0;
        while (total < 5)
        {
            total += await accepted.ReceiveAsync(buffer.AsMemory(total));
        }

        Assert.Equal("hello", Encoding.ASCII.GetString(buffer));
        accepted.Send("sync"u8);
        Assert.Equal(4, socket.Receive(new byte[4]));                  // blocking synchronous call: no WouldBlock
    }

    [Fact]
    public void UnixStream_ToStream_round_trips()
    {
        var (mine, theirs) = UnixStream.Pair();
        using (mine)
        using (NetworkStream network = theirs.ToStream())
        {
            Assert.True(mine.TryWrite("abc"u8, out _));
            var buffer = new byte[3];
            network.ReadExactly(buffer);
            Assert.Equal("abc", Encoding.ASCII.GetString(buffer));
            network.Write("xyz"u8);
            using var poll = new Poll();
            var events = new Events(4);
            poll.Registry.Register(mine, Client, Interest.Readable);
            int n = 0;
            Loop.Until(poll, events, _ => mine.TryRead(buffer, out n), "the reply");
            Assert.Equal("xyz", Encoding.ASCII.GetString(buffer, 0, n));
        }

        Assert.Throws<ObjectDisposedException>(() => theirs.ToSocket());
    }

    private static Task<Socket> AcceptAsync(Poll poll, Events events, TcpListener listener)
    {
        poll.Registry.Register(listener, Listener, Interest.Readable);
        TcpStream? accepted = null;
        Loop.Until(poll, events, _ => listener.TryAccept(out accepted), "a connection");
        return Task.FromResult(accepted!.ToSocket());
    }
}
