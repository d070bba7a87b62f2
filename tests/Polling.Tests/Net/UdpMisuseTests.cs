using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UdpMisuseTests
{
    [Fact]
    public void Disposed_throws_object_disposed_and_dispose_is_idempotent()
    {
        using var poll = new Poll();
        var socket = UdpSocket.Bind(LoopbackAny);
        IPEndPoint target = socket.LocalEndPoint;
        socket.Dispose();
        socket.Dispose();

        var error = Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(socket, (Token)1, Interest.Readable));
        Assert.Contains("UdpSocket", error.Message);
        Assert.Throws<ObjectDisposedException>(() => socket.TrySendTo("x"u8, target, out _));
        Assert.Throws<ObjectDisposedException>(() => socket.TrySendTo("x"u8, target.Serialize(), out _));
        Assert.Throws<ObjectDisposedException>(() => socket.TryReceiveFrom(new byte[1], out _, out _));
        Assert.Throws<ObjectDisposedException>(() => socket.TryReceiveFrom(new byte[1], out _, new SocketAddress(AddressFamily.InterNetwork)));
        Assert.Throws<ObjectDisposedException>(() => socket.TrySend("x"u8, out _));
        Assert.Throws<ObjectDisposedException>(() => socket.TryReceive(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => socket.Connect(target));
        Assert.Throws<ObjectDisposedException>(() => socket.LocalEndPoint);
        Assert.Throws<ObjectDisposedException>(() => socket.Broadcast = true);
        Assert.Throws<ObjectDisposedException>(() => socket.TakeError());
        Assert.True(socket.Handle.IsClosed);
        Assert.Equal("UdpSocket(disposed)", socket.ToString());
    }

    [Fact]
    public void NullArguments_throw()
    {
        using var socket = UdpSocket.Bind(LoopbackAny);
        Assert.Throws<ArgumentNullException>(() => UdpSocket.Bind(null!));
        Assert.Throws<ArgumentNullException>(() => UdpSocket.Bind(LoopbackAny, null!));
        Assert.Throws<ArgumentNullException>(() => socket.TrySendTo("x"u8, (IPEndPoint)null!, out _));
        Assert.Throws<ArgumentNullException>(() => socket.TrySendTo("x"u8, (SocketAddress)null!, out _));
        Assert.Throws<ArgumentNullException>(() => socket.TryReceiveFrom(new byte[1], out _, (SocketAddress)null!));
        Assert.Throws<ArgumentNullException>(() => socket.TryPeekFrom(new byte[1], out _, (SocketAddress)null!));
        Assert.Throws<ArgumentNullException>(() => socket.Connect(null!));
        Assert.Throws<ArgumentNullException>(() => ((ISource)socket).Register(null!, (Token)1, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentNullException>(() => ((ISource)socket).Deregister(null!));
    }

    [Fact]
    public void WrongAddressFamilies_throw_argument_exception()
    {
        using var v4 = UdpSocket.Bind(LoopbackAny);
        var error = Assert.Throws<ArgumentException>(() => v4.TrySendTo("x"u8, new IPEndPoint(IPAddress.IPv6Loopback, 9), out _));
        Assert.Contains("IPv6", error.Message);
        Assert.Throws<ArgumentException>(() => v4.Connect(new IPEndPoint(IPAddress.IPv6Loopback, 9)));
        error = Assert.Throws<ArgumentException>(() => UdpSocket.Bind(LoopbackAny, new UdpSocketOptions { DualMode = true }));
        Assert.Contains("DualMode", error.Message);
    }

    [Fact]
    public void BindToAnAddressInUse_throws_address_already_in_use()
    {
        using var first = UdpSocket.Bind(LoopbackAny);
        var error = Assert.Throws<SocketException>(() => UdpSocket.Bind(first.LocalEndPoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains("choose another port", error.Message);
    }
}
