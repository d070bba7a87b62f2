using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UdpTests
{
    private const Token First = (Token)1;
    private const Token Second = (Token)2;
    private const Token Third = (Token)3;

    private static readonly byte[] Data1 = "Hello world!"u8.ToArray();
    private static readonly byte[] Data2 = "Hello mars!"u8.ToArray();

    [Fact]
    public void Unconnected_IPv4_send_to_peek_from_receive_from() => UnconnectedSmoke(IPAddress.Loopback);

    [IPv6Fact]
    public void Unconnected_IPv6_send_to_peek_from_receive_from() => UnconnectedSmoke(IPAddress.IPv6Loopback);

    private static void UnconnectedSmoke(IPAddress loopback)
    {
        using var log = new EventLog();
        using var socket1 = UdpSocket.Bind(new IPEndPoint(loopback, 0));
        using var socket2 = UdpSocket.Bind(new IPEndPoint(loopback, 0));
        IPEndPoint address1 = socket1.LocalEndPoint;
        IPEndPoint address2 = socket2.LocalEndPoint;
        Assert.Equal(loopback, address1.Address);
        Assert.NotEqual(0, address1.Port);

        log.Registry.Register(socket1, First, Interest.Readable | Interest.Writable);
        log.Registry.Register(socket2, Second, Interest.Readable | Interest.Writable);
        log.WaitFor(First, e => e.IsWritable);
        log.WaitFor(Second, e => e.IsWritable);

        var buffer = new byte[20];
        Assert.False(socket1.TryPeekFrom(buffer, out _, out IPEndPoint? nobody));
        Assert.Null(nobody);
        Assert.False(socket1.TryReceiveFrom(buffer, out _, out _));

        Assert.True(socket1.TrySendTo(Data1, address2, out int sent1));
        Assert.Equal(Data1.Length, sent1);
        Assert.True(socket2.TrySendTo(Data2, address1, out int sent2));
        Assert.Equal(Data2.Length, sent2);

        log.WaitFor(First, e => e.IsReadable);
        log.WaitFor(Second, e => e.IsReadable);

        Assert.True(socket1.TryPeekFrom(buffer, out int n, out IPEndPoint? from));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(address2, from);
        Assert.True(socket2.TryPeekFrom(buffer, out n, out from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(address1, from);

        Assert.True(socket1.TryReceiveFrom(buffer, out n, out from));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(address2, from);
        Assert.True(socket2.TryReceiveFrom(buffer, out n, out from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(address1, from);

        Assert.False(socket1.TryReceiveFrom(buffer, out _, out _));
        Assert.Equal(SocketError.Success, socket1.TakeError());
        Assert.Equal(SocketError.Success, socket2.TakeError());
    }

    [Fact]
    public void EmptyDatagram_is_delivered_as_zero_bytes()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var sender = UdpSocket.Bind(LoopbackAny);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(receiver, Second, Interest.Readable);

        Assert.True(sender.TrySendTo(ReadOnlySpan<byte>.Empty, receiver.LocalEndPoint, out int sent));
        Assert.Equal(0, sent);
        WaitFor(poll, events, Second, e => e.IsReadable);
        Assert.True(receiver.TryReceiveFrom(new byte[10], out int n, out IPEndPoint? from));
        Assert.Equal(0, n);
        Assert.Equal(sender.LocalEndPoint, from);
        Assert.False(receiver.TryReceiveFrom(new byte[10], out _, out _));
    }

    [Fact]
    public void Connected_IPv4_send_peek_receive() => ConnectedSmoke(IPAddress.Loopback);

    [IPv6Fact]
    public void Connected_IPv6_send_peek_receive() => ConnectedSmoke(IPAddress.IPv6Loopback);

    private static void ConnectedSmoke(IPAddress loopback)
    {
        using var log = new EventLog();
        using var socket1 = UdpSocket.Bind(new IPEndPoint(loopback, 0));
        using var socket2 = UdpSocket.Bind(new IPEndPoint(loopback, 0));
        socket1.Connect(socket2.LocalEndPoint);
        socket2.Connect(socket1.LocalEndPoint);
        Assert.Equal(socket2.LocalEndPoint, socket1.RemoteEndPoint);

        log.Registry.Register(socket1, First, Interest.Readable | Interest.Writable);
        log.Registry.Register(socket2, Second, Interest.Readable | Interest.Writable);
        log.WaitFor(First, e => e.IsWritable);
        log.WaitFor(Second, e => e.IsWritable);

        var buffer = new byte[20];
        Assert.False(socket1.TryPeek(buffer, out _));
        Assert.False(socket1.TryReceive(buffer, out _));

        Assert.True(socket1.TrySend(Data1, out int sent));
        Assert.Equal(Data1.Length, sent);
        Assert.True(socket2.TrySend(Data2, out sent));
        Assert.Equal(Data2.Length, sent);

        log.WaitFor(First, e => e.IsReadable);
        log.WaitFor(Second, e => e.IsReadable);

        Assert.True(socket1.TryPeek(buffer, out int n));
        Assert.Equal(Data2, buffer[..n]);
        Assert.True(socket2.TryPeek(buffer, out n));
        Assert.Equal(Data1, buffer[..n]);
        Assert.True(socket1.TryReceive(buffer, out n));
        Assert.Equal(Data2, buffer[..n]);
        Assert.True(socket2.TryReceive(buffer, out n));
        Assert.Equal(Data1, buffer[..n]);

        Assert.Equal(SocketError.Success, socket1.TakeError());
        Assert.Equal(SocketError.Success, socket2.TakeError());
    }

    [Fact]
    public void Reconnect_switches_the_peer()
    {
        using var log = new EventLog();
        using var socket1 = UdpSocket.Bind(LoopbackAny);
        using var socket2 = UdpSocket.Bind(LoopbackAny);
        using var socket3 = UdpSocket.Bind(LoopbackAny);
        socket1.Connect(socket2.LocalEndPoint);
        socket2.Connect(socket1.LocalEndPoint);
        socket3.Connect(socket1.LocalEndPoint);
        log.Registry.Register(socket2, Second, Interest.Readable);
        log.Registry.Register(socket3, Third, Interest.Readable);

        var buffer = new byte[20];
        Assert.True(socket1.TrySend(Data1, out _));
        log.WaitFor(Second, e => e.IsReadable);
        Assert.True(socket2.TryReceive(buffer, out int n));
        Assert.Equal(Data1, buffer[..n]);

        socket1.Connect(socket3.LocalEndPoint);
        Assert.True(socket1.TrySend(Data2, out _));
        log.WaitFor(Third, e => e.IsReadable);
        Assert.True(socket3.TryReceive(buffer, out n));
        Assert.Equal(Data2, buffer[..n]);
        Assert.False(socket2.TryReceive(buffer, out _));
    }

    [Fact]
    public void Connected_drops_datagrams_from_others()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        using var peer = UdpSocket.Bind(LoopbackAny);
        using var outsider = UdpSocket.Bind(LoopbackAny);
        receiver.Connect(peer.LocalEndPoint);
        poll.Registry.Register(receiver, First, Interest.Readable);

        Assert.True(outsider.TrySendTo(Data1, receiver.LocalEndPoint, out _));
        Assert.True(peer.TrySendTo(Data2, receiver.LocalEndPoint, out _));

        WaitFor(poll, events, First, e => e.IsReadable);
        var buffer = new byte[20];
        Assert.True(receiver.TryReceiveFrom(buffer, out int n, out IPEndPoint? from));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(peer.LocalEndPoint, from);
        Assert.False(receiver.TryReceive(buffer, out _));
    }

    [Fact]
    public void Unconnected_connected_methods_send_needs_an_address_receive_works()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var socket1 = UdpSocket.Bind(LoopbackAny);
        using var socket2 = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(socket2, Second, Interest.Readable);

        var error = Assert.Throws<SocketException>(() => socket1.TrySend(Data1, out _));
        Assert.Equal(SocketError.DestinationAddressRequired, error.SocketErrorCode);
        Assert.Contains("UdpSocket", error.Message);

        var notConnected = Assert.Throws<SocketException>(() => socket1.RemoteEndPoint);
        Assert.Equal(SocketError.NotConnected, notConnected.SocketErrorCode);

        Assert.True(socket1.TrySendTo(Data1, socket2.LocalEndPoint, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);
        var buffer = new byte[20];
        Assert.True(socket2.TryPeek(buffer, out int n));
        Assert.Equal(Data1, buffer[..n]);
        Assert.True(socket2.TryReceive(buffer, out n));
        Assert.Equal(Data1, buffer[..n]);
    }

    [Fact]
    public void Connected_send_to_closed_port_reports_connection_refused()
    {
        using var poll = new Poll();
        var events = new Events(8);
        IPEndPoint closed;
        using (var gone = UdpSocket.Bind(LoopbackAny))
        {
            closed = gone.LocalEndPoint;
        }

        using var socket = UdpSocket.Bind(LoopbackAny);
        socket.Connect(closed);
        poll.Registry.Register(socket, First, Interest.Readable);
        Assert.True(socket.TrySend(Data1, out _));

        Event ev = WaitFor(poll, events, First, e => e.IsError);
        Assert.True(ev.IsError);
        var error = Assert.Throws<SocketException>(() => socket.TryReceive(new byte[20], out _));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        Assert.Equal(SocketError.Success, socket.TakeError()); // reported once, then cleared
        Assert.False(socket.TryReceive(new byte[20], out _));
    }

    [Fact]
    public void TakeError_reads_and_clears_the_pending_error()
    {
        using var poll = new Poll();
        var events = new Events(8);
        IPEndPoint closed;
        using (var gone = UdpSocket.Bind(LoopbackAny))
        {
            closed = gone.LocalEndPoint;
        }

        using var socket = UdpSocket.Bind(LoopbackAny);
        socket.Connect(closed);
        poll.Registry.Register(socket, First, Interest.Readable);
        Assert.True(socket.TrySend(Data1, out _));
        WaitFor(poll, events, First, e => e.IsError);
        Assert.Equal(SocketError.ConnectionRefused, socket.TakeError());
        Assert.Equal(SocketError.Success, socket.TakeError());
    }

    [Fact]
    public void ManyDatagrams_from_two_senders_all_arrive_in_order_per_sender()
    {
        const int PerSender = 500;
        const int Batch = 50;
        using var poll = new Poll();
        var events = new Events(64);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        using var senderA = UdpSocket.Bind(LoopbackAny);
        using var senderB = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(receiver, First, Interest.Readable);
        IPEndPoint target = receiver.LocalEndPoint;
        IPEndPoint addressA = senderA.LocalEndPoint;

        int nextA = 0, nextB = 0;
        var payload = new byte[8];
        var buffer = new byte[64];
        var source = new SocketAddress(AddressFamily.InterNetwork);
        var endpoint = new IPEndPoint(IPAddress.Any, 0);
        for (int sent = 0; sent < PerSender; sent += Batch)
        {
            // A batch at a time, so the receive queue (SO_RCVBUF) never overflows and drops datagrams.
            for (int i = sent; i < sent + Batch; i++)
            {
                BitConverter.TryWriteBytes(payload, i);
                Assert.True(senderA.TrySendTo(payload, target, out _));
                Assert.True(senderB.TrySendTo(payload, target, out _));
            }

            DateTime end = DateTime.UtcNow + Deadline;
            while (nextA + nextB < 2 * (sent + Batch))
            {
                Assert.True(DateTime.UtcNow < end, $"Only {nextA} + {nextB} datagrams arrived.");
                poll.Wait(events, TimeSpan.FromMilliseconds(200));
                while (receiver.TryReceiveFrom(buffer, out int n, source))
                {
                    Assert.Equal(8, n);
                    int sequence = BitConverter.ToInt32(buffer);
                    if (((IPEndPoint)endpoint.Create(source)).Equals(addressA))
                    {
                        Assert.Equal(nextA++, sequence);
                    }
                    else
                    {
                        Assert.Equal(nextB++, sequence);
                    }
                }
            }
        }

        Assert.Equal(PerSender, nextA);
        Assert.Equal(PerSender, nextB);
    }

    [Fact]
    public void EdgeTriggered_no_event_after_drain_event_for_the_next_datagram()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var sender = UdpSocket.Bind(LoopbackAny);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        sender.Connect(receiver.LocalEndPoint);
        poll.Registry.Register(receiver, Second, Interest.Readable);
        var buffer = new byte[20];
        for (int round = 0; round < 3; round++)
        {
            Assert.True(sender.TrySend(Data1, out _));
            WaitFor(poll, events, Second, e => e.IsReadable);
            Assert.True(receiver.TryReceive(buffer, out int n));
            Assert.Equal(Data1, buffer[..n]);
            Assert.False(receiver.TryReceive(buffer, out _));
            Assert.Empty(Drain(poll, events, Second, TimeSpan.FromMilliseconds(50)));
        }
    }

    [Fact]
    public void Reregister_changes_interest_and_deregister_stops_events()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var socket = UdpSocket.Bind(LoopbackAny);
        using var sender = UdpSocket.Bind(LoopbackAny);

        poll.Registry.Register(socket, First, Interest.Writable);
        Assert.True(sender.TrySendTo(Data1, socket.LocalEndPoint, out _));
        Event writable = WaitFor(poll, events, First);
        Assert.True(writable.IsWritable);
        Assert.False(writable.IsReadable);

        poll.Registry.Reregister(socket, Second, Interest.Readable);
        WaitFor(poll, events, Second, e => e.IsReadable);

        poll.Registry.Deregister(socket);
        Assert.True(sender.TrySendTo(Data2, socket.LocalEndPoint, out _));
        Assert.Empty(Drain(poll, events, Second));
        Assert.Empty(Drain(poll, events, First));

        var buffer = new byte[20];
        Assert.True(socket.TryReceiveFrom(buffer, out int n, out _));
        Assert.Equal(Data1, buffer[..n]);
    }

    [Fact]
    public void LongDatagram_is_truncated_to_the_buffer_and_the_rest_is_dropped()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var sender = UdpSocket.Bind(LoopbackAny);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(receiver, Second, Interest.Readable);
        byte[] datagram = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Assert.True(sender.TrySendTo(datagram, receiver.LocalEndPoint, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);

        var small = new byte[10];
        Assert.True(receiver.TryReceive(small, out int n));
        Assert.Equal(10, n);
        Assert.Equal(datagram[..10], small);
        Assert.False(receiver.TryReceive(small, out _));
    }

    [Fact]
    public void OversizedDatagram_throws_message_size()
    {
        using var socket = UdpSocket.Bind(LoopbackAny);
        using var receiver = UdpSocket.Bind(LoopbackAny);
        var error = Assert.Throws<SocketException>(() => socket.TrySendTo(new byte[70_000], receiver.LocalEndPoint, out _));
        Assert.Equal(SocketError.MessageSize, error.SocketErrorCode);
        Assert.Contains(receiver.LocalEndPoint.ToString(), error.Message);
    }

    [Fact]
    public void SocketAddressOverloads_receive_peek_and_reply()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var client = UdpSocket.Bind(LoopbackAny);
        using var server = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(server, Second, Interest.Readable);
        poll.Registry.Register(client, First, Interest.Readable);

        Assert.True(client.TrySendTo(Data1, server.LocalEndPoint.Serialize(), out int sent));
        Assert.Equal(Data1.Length, sent);
        WaitFor(poll, events, Second, e => e.IsReadable);

        var peer = new SocketAddress(AddressFamily.InterNetwork);
        var buffer = new byte[64];
        Assert.True(server.TryPeekFrom(buffer, out int n, peer));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(client.LocalEndPoint, new IPEndPoint(IPAddress.Any, 0).Create(peer));

        var again = new SocketAddress(AddressFamily.InterNetwork);
        Assert.True(server.TryReceiveFrom(buffer, out n, again));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(peer, again);
        Assert.Equal(client.LocalEndPoint.Serialize(), again);

        Assert.True(server.TrySendTo(buffer.AsSpan(0, n), again, out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        Assert.True(client.TryReceiveFrom(buffer, out n, out IPEndPoint? from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(server.LocalEndPoint, from);

        Assert.False(server.TryReceiveFrom(buffer, out _, again));
        Assert.Equal(peer, again); // untouched when nothing was received
    }

    [IPv6Fact]
    public void SocketAddressOverloads_IPv6()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var loopback = new IPEndPoint(IPAddress.IPv6Loopback, 0);
        using var client = UdpSocket.Bind(loopback);
        using var server = UdpSocket.Bind(loopback);
        poll.Registry.Register(server, Second, Interest.Readable);

        Assert.True(client.TrySendTo(Data2, server.LocalEndPoint.Serialize(), out _));
        WaitFor(poll, events, Second, e => e.IsReadable);
        var peer = new SocketAddress(AddressFamily.InterNetworkV6);
        var buffer = new byte[64];
        Assert.True(server.TryReceiveFrom(buffer, out int n, peer));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(client.LocalEndPoint, new IPEndPoint(IPAddress.IPv6Any, 0).Create(peer));
    }

    [IPv6Fact]
    public void SocketAddressTooSmall_throws_and_the_datagram_stays_queued()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var loopback = new IPEndPoint(IPAddress.IPv6Loopback, 0);
        using var client = UdpSocket.Bind(loopback);
        using var server = UdpSocket.Bind(loopback);
        poll.Registry.Register(server, Second, Interest.Readable);
        Assert.True(client.TrySendTo(Data1, server.LocalEndPoint, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);

        var error = Assert.Throws<ArgumentException>(() => server.TryReceiveFrom(new byte[64], out _, new SocketAddress(AddressFamily.InterNetwork)));
        Assert.Contains("new SocketAddress(socket.AddressFamily)", error.Message);
        Assert.True(server.TryReceiveFrom(new byte[64], out int n, new SocketAddress(AddressFamily.InterNetworkV6)));
        Assert.Equal(Data1.Length, n);
    }

    [IPv6Fact]
    public void DualMode_exchanges_IPv4_datagrams_on_an_IPv6_socket()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var dual = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 0), new UdpSocketOptions { DualMode = true });
        using var v4 = UdpSocket.Bind(LoopbackAny);
        Assert.Equal(AddressFamily.InterNetworkV6, dual.AddressFamily);
        poll.Registry.Register(dual, First, Interest.Readable);
        poll.Registry.Register(v4, Second, Interest.Readable);

        Assert.True(v4.TrySendTo(Data1, new IPEndPoint(IPAddress.Loopback, dual.LocalEndPoint.Port), out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        var buffer = new byte[64];
        Assert.True(dual.TryReceiveFrom(buffer, out int n, out IPEndPoint? from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.True(from.Address.IsIPv4MappedToIPv6);
        Assert.Equal(v4.LocalEndPoint, new IPEndPoint(from.Address.MapToIPv4(), from.Port));

        Assert.True(dual.TrySendTo(Data2, v4.LocalEndPoint, out _)); // an IPv4 target is mapped
        WaitFor(poll, events, Second, e => e.IsReadable);
        Assert.True(v4.TryReceive(buffer, out n));
        Assert.Equal(Data2, buffer[..n]);
    }

    [IPv6Fact]
    public void IPv6Only_by_default_refuses_IPv4_targets()
    {
        using var v6 = UdpSocket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        using var v4 = UdpSocket.Bind(LoopbackAny);
        var error = Assert.Throws<SocketException>(() => v6.TrySendTo(Data1, v4.LocalEndPoint, out _));
        Assert.Equal(SocketError.NetworkUnreachable, error.SocketErrorCode);
    }

    [Fact]
    public void BroadcastOnLoopback_refused_without_the_option_delivered_with_it()
    {
        var broadcast = IPAddress.Parse("127.255.255.255");
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(new IPEndPoint(broadcast, 0));
        using var sender = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(receiver, Second, Interest.Readable);
        var target = new IPEndPoint(broadcast, receiver.LocalEndPoint.Port);

        Assert.False(sender.Broadcast);
        var error = Assert.Throws<SocketException>(() => sender.TrySendTo(Data1, target, out _));
        Assert.Equal(SocketError.AccessDenied, error.SocketErrorCode);
        Assert.Contains("Broadcast", error.Message);

        sender.Broadcast = true;
        Assert.True(sender.Broadcast);
        Assert.True(sender.TrySendTo(Data1, target, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);
        Assert.True(receiver.TryReceiveFrom(new byte[64], out int n, out IPEndPoint? from));
        Assert.Equal(Data1.Length, n);
        Assert.Equal(sender.LocalEndPoint, from);

        sender.Broadcast = false;
        Assert.False(sender.Broadcast);
    }

    [Fact]
    public void Options_round_trip_IPv4() => OptionsRoundTrip(IPAddress.Loopback);

    [IPv6Fact]
    public void Options_round_trip_IPv6() => OptionsRoundTrip(IPAddress.IPv6Loopback);

    private static void OptionsRoundTrip(IPAddress loopback)
    {
        using var socket = UdpSocket.Bind(new IPEndPoint(loopback, 0));
        Assert.InRange(socket.Ttl, 1, 255);
        socket.Ttl = 10;
        Assert.Equal(10, socket.Ttl);

        Assert.Equal(1, socket.MulticastTimeToLive);
        socket.MulticastTimeToLive = 0;
        Assert.Equal(0, socket.MulticastTimeToLive);
        socket.MulticastTimeToLive = 32;
        Assert.Equal(32, socket.MulticastTimeToLive);

        Assert.True(socket.MulticastLoopback);
        socket.MulticastLoopback = false;
        Assert.False(socket.MulticastLoopback);
        socket.MulticastLoopback = true;
        Assert.True(socket.MulticastLoopback);

        socket.ReceiveBufferSize = 64 * 1024;
        Assert.True(socket.ReceiveBufferSize >= 64 * 1024);
        socket.SendBufferSize = 32 * 1024;
        Assert.True(socket.SendBufferSize >= 32 * 1024);

        Assert.Equal(SocketError.Success, socket.TakeError());
    }

    [Fact]
    public void OutOfRangeOptions_throw_and_leave_the_value_unchanged()
    {
        using var socket = UdpSocket.Bind(LoopbackAny);
        socket.Ttl = 20;
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.Ttl = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.Ttl = 256);
        Assert.Equal(20, socket.Ttl);
        socket.MulticastTimeToLive = 5;
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.MulticastTimeToLive = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.MulticastTimeToLive = 256);
        Assert.Equal(5, socket.MulticastTimeToLive);
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.ReceiveBufferSize = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.SendBufferSize = -5);
    }

    [Fact]
    public void ReusePort_lets_two_sockets_bind_one_port()
    {
        var options = new UdpSocketOptions { ReusePort = true };
        using var first = UdpSocket.Bind(LoopbackAny, options);
        using var second = UdpSocket.Bind(first.LocalEndPoint, options);
        Assert.Equal(first.LocalEndPoint, second.LocalEndPoint);

        var error = Assert.Throws<SocketException>(() => UdpSocket.Bind(first.LocalEndPoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains(first.LocalEndPoint.ToString(), error.Message);
    }

    [Fact]
    public void ReuseAddress_lets_two_sockets_bind_one_port()
    {
        var options = new UdpSocketOptions { ReuseAddress = true };
        using var first = UdpSocket.Bind(LoopbackAny, options);
        using var second = UdpSocket.Bind(first.LocalEndPoint, options);
        Assert.Equal(first.LocalEndPoint, second.LocalEndPoint);
    }

    [Fact]
    public void Created_non_blocking_and_close_on_exec()
    {
        using var socket = UdpSocket.Bind(LoopbackAny);
        int fd = (int)socket.Handle.DangerousGetHandle();
        Assert.NotEqual(0, Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_GETFL) & Tmds.Linux.LibC.O_NONBLOCK);
        Assert.NotEqual(0, Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_GETFD) & Tmds.Linux.LibC.FD_CLOEXEC);
        Assert.Equal(AddressFamily.InterNetwork, socket.AddressFamily);
        Assert.Equal($"UdpSocket(fd {fd}, {socket.LocalEndPoint})", socket.ToString());
    }

    [Fact]
    public void FromSocket_takes_over_a_bound_socket_and_makes_it_non_blocking()
    {
        var original = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        original.Bind(LoopbackAny);
        var bound = (IPEndPoint)original.LocalEndPoint!;

        using UdpSocket socket = UdpSocket.FromSocket(original);
        Assert.True(original.SafeHandle.IsClosed);
        Assert.Equal(bound, socket.LocalEndPoint);
        Assert.False(socket.TryReceive(new byte[8], out _)); // would block instead of blocking

        using var poll = new Poll();
        var events = new Events(8);
        using var sender = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(socket, First, Interest.Readable);
        Assert.True(sender.TrySendTo(Data1, bound, out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        Assert.True(socket.TryReceive(new byte[32], out int n));
        Assert.Equal(Data1.Length, n);
    }

    [Fact]
    public void FromSocket_unbound_binds_implicitly_on_first_send()
    {
        using UdpSocket socket = UdpSocket.FromSocket(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        using var receiver = UdpSocket.Bind(LoopbackAny);
        using var poll = new Poll();
        var events = new Events(8);
        poll.Registry.Register(receiver, Second, Interest.Readable);
        Assert.True(socket.TrySendTo(Data1, receiver.LocalEndPoint, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);
        Assert.True(receiver.TryReceiveFrom(new byte[32], out _, out IPEndPoint? from));
        Assert.Equal(socket.LocalEndPoint.Port, from.Port);
    }

    [Fact]
    public void FromSocket_not_udp_throws_and_leaves_the_socket_alone()
    {
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = Assert.Throws<ArgumentException>(() => UdpSocket.FromSocket(tcp));
        Assert.Contains("TcpStream.FromSocket", error.Message);
        Assert.False(tcp.SafeHandle.IsClosed);

        using var unix = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        error = Assert.Throws<ArgumentException>(() => UdpSocket.FromSocket(unix));
        Assert.Contains("UnixDatagram.FromSocket", error.Message);
        Assert.False(unix.SafeHandle.IsClosed);

        Assert.Throws<ArgumentNullException>(() => UdpSocket.FromSocket(null!));
        var disposed = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => UdpSocket.FromSocket(disposed));
    }
}
