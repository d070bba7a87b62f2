using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <content>Multicast: the group memberships, the outgoing interface, and the multicast TTL and loopback options.</content>
public sealed partial class UdpSocket
{
    /// <summary>
    /// The time-to-live (IPv4, <c>IP_MULTICAST_TTL</c>) or hop limit (IPv6, <c>IPV6_MULTICAST_HOPS</c>) of
    /// multicast datagrams; 0 to 255, default 1 (this network only). 0 keeps them on this host.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0..255.</exception>
    public int MulticastTimeToLive
    {
        get => IsV6
            ? _core.GetOption(LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_HOPS, "the multicast hop limit (IPV6_MULTICAST_HOPS)", this)
            : _core.GetOption(LibC.IPPROTO_IP, LibC.IP_MULTICAST_TTL, "the multicast time-to-live (IP_MULTICAST_TTL)", this);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 255);
            if (IsV6)
            {
                _core.SetOption(LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_HOPS, value, "the multicast hop limit (IPV6_MULTICAST_HOPS)", this);
            }
            else
            {
                _core.SetOption(LibC.IPPROTO_IP, LibC.IP_MULTICAST_TTL, value, "the multicast time-to-live (IP_MULTICAST_TTL)", this);
            }
        }
    }

    /// <summary>
    /// Whether multicast datagrams this socket sends are delivered to group members on this host too
    /// (<c>IP_MULTICAST_LOOP</c> / <c>IPV6_MULTICAST_LOOP</c>). Default <see langword="true"/>.
    /// </summary>
    public bool MulticastLoopback
    {
        get => IsV6
            ? _core.GetFlag(LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_LOOP, "multicast loopback (IPV6_MULTICAST_LOOP)", this)
            : _core.GetFlag(LibC.IPPROTO_IP, LibC.IP_MULTICAST_LOOP, "multicast loopback (IP_MULTICAST_LOOP)", this);
        set
        {
            if (IsV6)
            {
                _core.SetFlag(LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_LOOP, value, "multicast loopback (IPV6_MULTICAST_LOOP)", this);
            }
            else
            {
                _core.SetFlag(LibC.IPPROTO_IP, LibC.IP_MULTICAST_LOOP, value, "multicast loopback (IP_MULTICAST_LOOP)", this);
            }
        }
    }

    /// <summary>
    /// Joins the multicast group <paramref name="group"/> on the interface the kernel picks from its routing
    /// table. The socket must be bound to the group's port (to <see cref="IPAddress.Any"/>,
    /// <see cref="IPAddress.IPv6Any"/> or the group address) to receive its datagrams.
    /// </summary>
    /// <param name="group">An IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address.</param>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not a multicast address, or is IPv6 on an IPv4 socket.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.AddressNotAvailable"/>
    /// when it has joined already, or no interface can do multicast).</exception>
    public void JoinMulticastGroup(IPAddress group) => Membership(group, null, 0, join: true);

    /// <summary>Joins the IPv4 multicast group <paramref name="group"/> on the interface that has <paramref name="localAddress"/>.</summary>
    /// <param name="group">An IPv4 multicast address (224.0.0.0/4).</param>
    /// <param name="localAddress">An IPv4 address of the interface to join on.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The addresses are not IPv4, or <paramref name="group"/> is not multicast.</exception>
    public void JoinMulticastGroup(IPAddress group, IPAddress localAddress) => MembershipV4(group, localAddress, join: true);

    /// <summary>Joins the multicast group <paramref name="group"/> on the interface with index <paramref name="interfaceIndex"/>.</summary>
    /// <param name="group">An IPv4 or IPv6 multicast address.</param>
    /// <param name="interfaceIndex">The interface index (<c>NetworkInterface.GetIPProperties().GetIPv6Properties().Index</c>); 0 lets the kernel pick.</param>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not multicast, or is IPv6 on an IPv4 socket.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interfaceIndex"/> is negative.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.NetworkDown"/> for an unknown interface).</exception>
    public void JoinMulticastGroup(IPAddress group, int interfaceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(interfaceIndex);
        Membership(group, null, interfaceIndex, join: true);
    }

    /// <summary>Leaves a group joined with <see cref="JoinMulticastGroup(IPAddress)"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not multicast, or is IPv6 on an IPv4 socket.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.AddressNotAvailable"/> when not a member).</exception>
    public void LeaveMulticastGroup(IPAddress group) => Membership(group, null, 0, join: false);

    /// <summary>Leaves a group joined with <see cref="JoinMulticastGroup(IPAddress, IPAddress)"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The addresses are not IPv4, or <paramref name="group"/> is not multicast.</exception>
    public void LeaveMulticastGroup(IPAddress group, IPAddress localAddress) => MembershipV4(group, localAddress, join: false);

    /// <summary>Leaves a group joined with <see cref="JoinMulticastGroup(IPAddress, int)"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> is not multicast, or is IPv6 on an IPv4 socket.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interfaceIndex"/> is negative.</exception>
    public void LeaveMulticastGroup(IPAddress group, int interfaceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(interfaceIndex);
        Membership(group, null, interfaceIndex, join: false);
    }

    /// <summary>
    /// Sends this socket's IPv4 multicast datagrams out of the interface that has <paramref name="localAddress"/>
    /// (<c>IP_MULTICAST_IF</c>) instead of the one the routing table picks — e.g. <see cref="IPAddress.Loopback"/>
    /// to keep a group on this host.
    /// </summary>
    /// <param name="localAddress">An IPv4 address of the interface.</param>
    /// <exception cref="ArgumentNullException"><paramref name="localAddress"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="localAddress"/> is not IPv4.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.AddressNotAvailable"/> for an address this machine does not have).</exception>
    public void SetMulticastInterface(IPAddress localAddress)
    {
        ArgumentNullException.ThrowIfNull(localAddress);
        if (localAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException(
                $"Choosing the multicast interface by local address works for IPv4 only ({localAddress}): for IPv6 pass the interface index.", nameof(localAddress));
        }

        int errno = Multicast.SetInterfaceV4(_core.Live(this), localAddress, 0);
        _core.Check(errno, $"send multicast through the interface with {localAddress} (IP_MULTICAST_IF) on", this);
    }

    /// <summary>
    /// Sends this socket's multicast datagrams out of the interface with index <paramref name="interfaceIndex"/>
    /// (<c>IP_MULTICAST_IF</c> / <c>IPV6_MULTICAST_IF</c>); 0 returns to the routing table's choice.
    /// </summary>
    /// <param name="interfaceIndex">The interface index, or 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interfaceIndex"/> is negative.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. for an unknown interface).</exception>
    public void SetMulticastInterface(int interfaceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(interfaceIndex);
        int errno = IsV6
            ? SocketCalls.SetOption(_core.Live(this), LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_IF, interfaceIndex)
            : Multicast.SetInterfaceV4(_core.Live(this), null, interfaceIndex);
        _core.Check(errno, $"send multicast through interface {interfaceIndex} (multicast interface option) on", this);
    }

    private void Membership(IPAddress group, IPAddress? localAddress, int interfaceIndex, bool join)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!Multicast.IsGroup(group))
        {
            throw new ArgumentException(
                $"{group} is not a multicast address: give an IPv4 address in 224.0.0.0/4 or an IPv6 address in ff00::/8.", nameof(group));
        }

        if (group.AddressFamily == AddressFamily.InterNetworkV6 && !IsV6)
        {
            throw new ArgumentException(
                $"{group} is an IPv6 group but {this} is an IPv4 socket: bind an IPv6 socket to receive IPv6 multicast.", nameof(group));
        }

        int errno = Multicast.Membership(_core.Live(this), group, localAddress, interfaceIndex, join);
        if (errno != 0)
        {
            string where = localAddress is not null ? $" on the interface with {localAddress}" : interfaceIndex != 0 ? $" on interface {interfaceIndex}" : string.Empty;
            throw _core.Failure(errno, $"{(join ? "join" : "leave")} multicast group {group}{where} with {this}");
        }
    }

    private void MembershipV4(IPAddress group, IPAddress localAddress, bool join)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(localAddress);
        if (group.AddressFamily != AddressFamily.InterNetwork || localAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException(
                $"Choosing the interface by local address works for IPv4 only ({group} on {localAddress}): for IPv6 pass the interface index.", nameof(localAddress));
        }

        Membership(group, localAddress, 0, join);
    }
}
