using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Polling.Tests.Net;

/// <summary>A fact that needs IPv4 multicast over the loopback interface; skipped with the kernel's reason where it is unavailable.</summary>
public sealed class MulticastV4FactAttribute : FactAttribute
{
    public MulticastV4FactAttribute()
    {
        if (MulticastProbe.V4Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A fact that needs IPv6 multicast delivered back to this host; skipped with the kernel's reason where it is unavailable.</summary>
public sealed class MulticastV6FactAttribute : FactAttribute
{
    public MulticastV6FactAttribute()
    {
        if (MulticastProbe.V6Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// Probes once, with plain System.Net.Sockets, whether this kernel delivers multicast the way the multicast tests
/// use it: IPv4 joined and sent on the loopback interface (127.0.0.1), IPv6 on the interface the routing table picks
/// (the loopback interface has no IPv6 multicast route on Linux) with hop limit 0, so nothing leaves the host.
/// </summary>
internal static class MulticastProbe
{
    public static readonly IPAddress GroupV4 = IPAddress.Parse("239.255.71.1");
    public static readonly IPAddress GroupV6 = IPAddress.Parse("ff15::7101");

    private static readonly Lazy<string?> s_v4 = new(() => Probe(GroupV4, v6: false));
    private static readonly Lazy<string?> s_v6 = new(() => Probe(GroupV6, v6: true));

    /// <summary><see langword="null"/> when IPv4 multicast works on loopback, else why not.</summary>
    public static string? V4Unavailable => s_v4.Value;

    /// <summary><see langword="null"/> when IPv6 multicast is looped back to this host, else why not.</summary>
    public static string? V6Unavailable => s_v6.Value;

    private static string? Probe(IPAddress group, bool v6)
    {
        string what = v6 ? "IPv6 multicast (group ff15::7101, hop limit 0)" : "IPv4 multicast on the loopback interface (group 239.255.71.1)";
        try
        {
            AddressFamily family = v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
            using var receiver = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            receiver.Bind(new IPEndPoint(group, 0));
            using var sender = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            if (v6)
            {
                receiver.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group));
                sender.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 0);
            }
            else
            {
                receiver.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group, IPAddress.Loopback));
                sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
            }

            sender.SendTo("probe"u8, receiver.LocalEndPoint!);
            return receiver.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead)
                ? null
                : $"{what} is not delivered by this kernel/network setup (probe datagram never arrived).";
        }
        catch (SocketException e)
        {
            return $"{what} is not available here: {e.SocketErrorCode} ({e.Message}).";
        }
    }
}
