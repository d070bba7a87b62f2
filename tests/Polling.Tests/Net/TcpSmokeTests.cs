using System.Net;
using System.Net.Sockets;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public class TcpSmokeTests
{
    [Fact]
    public void AcceptConnectEcho()
    {
        using var log = new EventLog();
        using var listener = TcpListener.Bind(LoopbackAny);
        log.Registry.Register(listener, (Token)0, Interest.Readable);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        log.Registry.Register(client, (Token)1, Interest.Readable | Interest.Writable);

        log.WaitFor((Token)0, e => e.IsReadable);
        Assert.True(listener.TryAccept(out TcpStream? accepted, out IPEndPoint? remote));
        using TcpStream server = accepted;
        Assert.Equal(client.LocalEndPoint, remote);
        log.WaitFor((Token)1, e => e.IsWritable);
        Assert.Equal(SocketError.Success, client.TakeError());
        Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);

        Assert.True(client.TryWrite("hello"u8, out int written));
        Assert.Equal(5, written);
        Assert.Equal("hello"u8.ToArray(), ReadExactly(server, 5));
        Assert.True(server.TryWrite("world"u8, out _));
        log.WaitFor((Token)1, e => e.IsReadable);
        var buffer = new byte[16];
        Assert.True(client.TryPeek(buffer, out int peeked));
        Assert.Equal(5, peeked);
        Assert.True(client.TryRead(buffer, out int read));
        Assert.Equal("world", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        Assert.False(client.TryRead(buffer, out _));
    }
}
