namespace Polling.Net;

/// <summary>
/// How <see cref="UdpSocket.Bind(System.Net.IPEndPoint, UdpSocketOptions)"/> sets up a socket before binding:
/// address and port sharing, and dual-stack IPv6. An immutable record: start from <see cref="Default"/> (or
/// <c>new()</c>) and change what you need with an object initializer or <c>with</c>.
/// </summary>
/// <example>
/// One socket per event-loop thread on port 5000; the kernel spreads incoming datagrams across them by
/// source address and port:
/// <code>
/// var options = new UdpSocketOptions { ReusePort = true };
/// for (int i = 0; i &lt; Environment.ProcessorCount; i++)
/// {
///     var socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Any, 5000), options);
///     new Thread(() => { using var loop = new Poll(); loop.Registry.Register(socket, (Token)0, Interest.Readable); /* … */ }).Start();
/// }
///
/// // Several programs receiving the same multicast group on one port:
/// using var receiver = UdpSocket.Bind(new IPEndPoint(IPAddress.Any, 5353), new UdpSocketOptions { ReuseAddress = true });
/// receiver.JoinMulticastGroup(IPAddress.Parse("224.0.0.251"));
/// </code>
/// </example>
public sealed record UdpSocketOptions
{
    /// <summary>No address or port sharing; IPv6 only on IPv6 endpoints.</summary>
    public static UdpSocketOptions Default { get; } = new();

    /// <summary>
    /// Sets <c>SO_REUSEADDR</c>: several sockets that all set it may bind the same port — the usual setup for
    /// multicast receivers, where every socket gets a copy of each group datagram. Default <see langword="false"/>.
    /// </summary>
    public bool ReuseAddress { get; init; }

    /// <summary>
    /// Sets <c>SO_REUSEPORT</c>: several sockets (of the same user) that all set it may bind the same address and
    /// port, and the kernel load-balances unicast datagrams between them by sender — one socket per event-loop
    /// thread. Default <see langword="false"/>.
    /// </summary>
    public bool ReusePort { get; init; }

    /// <summary>
    /// For an IPv6 endpoint: exchange IPv4 datagrams too (clears <c>IPV6_V6ONLY</c>); IPv4 peers then appear as
    /// IPv4-mapped IPv6 addresses (<c>::ffff:a.b.c.d</c>, see <see cref="System.Net.IPAddress.MapToIPv4"/>), and
    /// IPv4 targets are mapped the same way when sending. Default <see langword="false"/>: an IPv6 socket speaks
    /// IPv6 only, whatever the system default. Setting it for an IPv4 endpoint makes <c>Bind</c> throw
    /// <see cref="ArgumentException"/>.
    /// </summary>
    public bool DualMode { get; init; }
}
