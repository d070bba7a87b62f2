using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

/// <summary>
/// Multicast stays on this host: IPv4 is joined and sent on the loopback interface; IPv6 (which Linux does not route
/// over loopback) is sent with hop limit 0, which delivers to local members only. Receivers bind the group address,
/// senders are unbound System.Net sockets taken over with FromSocket (they bind implicitly on the first send).
/// </summary>
public sealed class UdpMulticastTests
{
    private const Token Receiver = (Token)1;

    [MulticastV4Fact]
    public void IPv4_join_receive_leave_on_loopback()
    {
        IPAddress group = IPAddress.Parse("239.255.71.2");
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(new IPEndPoint(group, 0));
        receiver.JoinMulticastGroup(group, IPAddress.Loopback);
        poll.Registry.Register(receiver, Receiver, Interest.Readable);
        var target = new IPEndPoint(group, receiver.LocalEndPoint.Port);

        using var sender = UdpSocket.Bind(LoopbackAny);
        sender.SetMulticastInterface(IPAddress.Loopback);
        sender.MulticastTimeToLive = 0;
        Assert.True(sender.TrySendTo("to the group"u8, target, out _));

        WaitFor(poll, events, Receiver, e => e.IsReadable);
        var buffer = new byte[64];
        Assert.True(receiver.TryReceiveFrom(buffer, out int n, out IPEndPoint? from));
        Assert.Equal("to the group"u8.ToArray(), buffer[..n]);
        Assert.Equal(sender.LocalEndPoint, from);

        receiver.LeaveMulticastGroup(group, IPAddress.Loopback);
        Assert.True(sender.TrySendTo("after leaving"u8, target, out _));
        Assert.Empty(Drain(poll, events, Receiver, TimeSpan.FromMilliseconds(200)));
        Assert.False(receiver.TryReceive(buffer, out _));
    }

    /// <summary>On the loopback interface every datagram comes back as input anyway, so this needs IPv6 (hop limit 0, another interface).</summary>
    [MulticastV6Fact]
    public void IPv6_loopback_off_keeps_own_datagrams_from_local_members()
    {
        IPAddress group = IPAddress.Parse("ff15::7103");
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(new IPEndPoint(group, 0));
        receiver.JoinMulticastGroup(group, 0);
        poll.Registry.Register(receiver, Receiver, Interest.Readable);
        var target = new IPEndPoint(group, receiver.LocalEndPoint.Port);

        using var sender = UdpSocket.FromSocket(new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp));
        sender.MulticastTimeToLive = 0;
        sender.MulticastLoopback = false;
        Assert.True(sender.TrySendTo("not looped"u8, target, out _));
        Assert.Empty(Drain(poll, events, Receiver, TimeSpan.FromMilliseconds(200)));

        sender.MulticastLoopback = true;
        Assert.True(sender.TrySendTo("looped"u8, target, out _));
        WaitFor(poll, events, Receiver, e => e.IsReadable);
        var buffer = new byte[64];
        Assert.True(receiver.TryReceive(buffer, out int n));
        Assert.Equal("looped"u8.ToArray(), buffer[..n]);
    }

    [MulticastV4Fact]
    public void IPv4_join_by_interface_index_and_join_twice_fails()
    {
        IPAddress group = IPAddress.Parse("239.255.71.4");
        int loopbackIndex = LoopbackInterfaceIndex();
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(new IPEndPoint(group, 0));
        receiver.JoinMulticastGroup(group, loopbackIndex);
        var twice = Assert.Throws<SocketException>(() => receiver.JoinMulticastGroup(group, loopbackIndex));
        Assert.Contains(group.ToString(), twice.Message);
        poll.Registry.Register(receiver, Receiver, Interest.Readable);

        using var sender = UdpSocket.Bind(LoopbackAny);
        sender.SetMulticastInterface(loopbackIndex);
        sender.MulticastTimeToLive = 0;
        Assert.True(sender.TrySendTo("by index"u8, new IPEndPoint(group, receiver.LocalEndPoint.Port), out _));
        WaitFor(poll, events, Receiver, e => e.IsReadable);
        Assert.True(receiver.TryReceive(new byte[64], out int n));
        Assert.Equal(8, n);

        receiver.LeaveMulticastGroup(group, loopbackIndex);
        var notMember = Assert.Throws<SocketException>(() => receiver.LeaveMulticastGroup(group, loopbackIndex));
        Assert.Equal(SocketError.AddressNotAvailable, notMember.SocketErrorCode);
    }

    [MulticastV6Fact]
    public void IPv6_join_receive_leave_hop_limit_zero()
    {
        IPAddress group = IPAddress.Parse("ff15::7102");
        using var poll = new Poll();
        var events = new Events(8);
        using var receiver = UdpSocket.Bind(new IPEndPoint(group, 0));
        receiver.JoinMulticastGroup(group);
        poll.Registry.Register(receiver, Receiver, Interest.Readable);
        var target = new IPEndPoint(group, receiver.LocalEndPoint.Port);

        using var sender = UdpSocket.FromSocket(new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp));
        sender.MulticastTimeToLive = 0;
        Assert.Equal(0, sender.MulticastTimeToLive);
        Assert.True(sender.MulticastLoopback);
        Assert.True(sender.TrySendTo("to the v6 group"u8, target, out _));

        WaitFor(poll, events, Receiver, e => e.IsReadable);
        var buffer = new byte[64];
        Assert.True(receiver.TryReceiveFrom(buffer, out int n, out IPEndPoint? from));
        Assert.Equal("to the v6 group"u8.ToArray(), buffer[..n]);
        Assert.Equal(sender.LocalEndPoint.Port, from.Port);

        receiver.LeaveMulticastGroup(group);
        Assert.True(sender.TrySendTo("after leaving"u8, target, out _));
        Assert.Empty(Drain(poll, events, Receiver, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void Misuse_not_a_group_wrong_family_null_negative_index()
    {
        using var v4 = UdpSocket.Bind(LoopbackAny);
        var error = Assert.Throws<ArgumentException>(() => v4.JoinMulticastGroup(IPAddress.Loopback));
        Assert.Contains("not a multicast address", error.Message);
        error = Assert.Throws<ArgumentException>(() => v4.JoinMulticastGroup(IPAddress.Parse("ff15::1")));
        Assert.Contains("IPv6 group", error.Message);
        error = Assert.Throws<ArgumentException>(() => v4.JoinMulticastGroup(IPAddress.Parse("239.1.1.1"), IPAddress.IPv6Loopback));
        Assert.Contains("interface index", error.Message);
        Assert.Throws<ArgumentException>(() => v4.SetMulticastInterface(IPAddress.IPv6Loopback));
        Assert.Throws<ArgumentNullException>(() => v4.JoinMulticastGroup(null!));
        Assert.Throws<ArgumentNullException>(() => v4.LeaveMulticastGroup(IPAddress.Parse("239.1.1.1"), (IPAddress)null!));
        Assert.Throws<ArgumentNullException>(() => v4.SetMulticastInterface(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => v4.JoinMulticastGroup(IPAddress.Parse("239.1.1.1"), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => v4.SetMulticastInterface(-1));
    }

    private static int LoopbackInterfaceIndex() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .First(i => i.NetworkInterfaceType == System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .GetIPProperties().GetIPv4Properties().Index;
}
