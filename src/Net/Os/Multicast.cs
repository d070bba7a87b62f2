using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Polling.Net.Os;

/// <summary>
/// IPv4 and IPv6 multicast: the membership requests (<c>struct ip_mreqn</c>, <c>struct ipv6_mreq</c>) built on the
/// stack, and the outgoing interface. The option names are Tmds.LibC's.
/// </summary>
internal static class Multicast
{
    private const int SizeOfIpMreqn = 12;
    private const int SizeOfIpv6Mreq = 20;

    /// <summary>Whether <paramref name="address"/> is an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast group.</summary>
    public static bool IsGroup(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6Multicast;
        }

        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out _) && (bytes[0] & 0xF0) == 0xE0;
    }

    /// <summary>
    /// Joins or leaves <paramref name="group"/>: <c>IP_ADD_MEMBERSHIP</c>/<c>IP_DROP_MEMBERSHIP</c> with an
    /// <c>ip_mreqn</c> (interface by local IPv4 address or index) for IPv4, <c>IPV6_ADD_MEMBERSHIP</c>/
    /// <c>IPV6_DROP_MEMBERSHIP</c> with an <c>ipv6_mreq</c> (interface by index) for IPv6.
    /// Returns 0 or the errno.
    /// </summary>
    public static int Membership(SafeHandle handle, IPAddress group, IPAddress? localAddress, int interfaceIndex, bool join)
    {
        if (group.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> request = stackalloc byte[SizeOfIpMreqn];
            request.Clear();
            group.TryWriteBytes(request[..4], out _);
            localAddress?.TryWriteBytes(request.Slice(4, 4), out _);
            BitConverter.TryWriteBytes(request.Slice(8, 4), interfaceIndex);
            return SocketCalls.SetOption(handle, LibC.IPPROTO_IP, join ? LibC.IP_ADD_MEMBERSHIP : LibC.IP_DROP_MEMBERSHIP, request);
        }

        Span<byte> request6 = stackalloc byte[SizeOfIpv6Mreq];
        group.TryWriteBytes(request6[..16], out _);
        BitConverter.TryWriteBytes(request6.Slice(16, 4), interfaceIndex);
        return SocketCalls.SetOption(handle, LibC.IPPROTO_IPV6, join ? LibC.IPV6_ADD_MEMBERSHIP : LibC.IPV6_DROP_MEMBERSHIP, request6);
    }

    /// <summary>
    /// Chooses the interface for outgoing IPv4 multicast by local address and/or index
    /// (<c>IP_MULTICAST_IF</c> with an <c>ip_mreqn</c>). Returns 0 or the errno.
    /// </summary>
    public static int SetInterfaceV4(SafeHandle handle, IPAddress? localAddress, int interfaceIndex)
    {
        Span<byte> request = stackalloc byte[SizeOfIpMreqn];
        request.Clear();
        localAddress?.TryWriteBytes(request.Slice(4, 4), out _);
        BitConverter.TryWriteBytes(request.Slice(8, 4), interfaceIndex);
        return SocketCalls.SetOption(handle, LibC.IPPROTO_IP, LibC.IP_MULTICAST_IF, request);
    }
}
