namespace Polling.Net;

/// <summary>
/// How <see cref="TcpListener.Bind(System.Net.IPEndPoint, TcpListenerOptions)"/> sets up a listening socket:
/// the accept backlog, <c>SO_REUSEPORT</c> for multi-loop servers, and dual-stack IPv6. An immutable record:
/// start from <see cref="Default"/> (or <c>new()</c>) and change what you need with an object initializer
/// or <c>with</c>.
/// </summary>
/// <remarks>
/// <c>SO_REUSEADDR</c> is always set (a restarted server can bind while old connections sit in
/// <c>TIME_WAIT</c>), as <see cref="TcpListener.Bind(System.Net.IPEndPoint)"/> promises.
/// </remarks>
/// <example>
/// One listener per event-loop thread, all on port 9000; the kernel spreads new connections across them:
/// <code>
/// var options = new TcpListenerOptions { ReusePort = true, Backlog = 4096 };
/// for (int i = 0; i &lt; Environment.ProcessorCount; i++)
/// {
///     var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Any, 9000), options);
///     new Thread(() => { using var loop = new Poll(); loop.Registry.Register(listener, (Token)0, Interest.Readable); /* … */ }).Start();
/// }
///
/// // IPv6 and IPv4 clients on one socket (IPv4 peers appear as ::ffff:a.b.c.d):
/// using var dual = TcpListener.Bind(new IPEndPoint(IPAddress.IPv6Any, 8080), TcpListenerOptions.Default with { DualMode = true });
/// </code>
/// </example>
public sealed record TcpListenerOptions
{
    /// <summary>The default backlog: 1024 pending connections.</summary>
    public const int DefaultBacklog = 1024;

    private readonly int _backlog = DefaultBacklog;

    /// <summary>Backlog 1024, no <c>SO_REUSEPORT</c>, IPv6 only on IPv6 endpoints.</summary>
    public static TcpListenerOptions Default { get; } = new();

    /// <summary>
    /// How many fully established connections the kernel queues for <see cref="TcpListener.TryAccept(out TcpStream)"/>
    /// (the <c>listen</c> backlog). Default 1024; the kernel caps it at <c>net.core.somaxconn</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int Backlog
    {
        get => _backlog;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Backlog));
            _backlog = value;
        }
    }

    /// <summary>
    /// Sets <c>SO_REUSEPORT</c>: several listeners (in this or other processes of the same user) may bind the
    /// same address and port, and the kernel load-balances incoming connections between them — one listener
    /// per event-loop thread. Every such listener must set it. Default <see langword="false"/>.
    /// </summary>
    public bool ReusePort { get; init; }

    /// <summary>
    /// For an IPv6 endpoint: accept IPv4 connections too (clears <c>IPV6_V6ONLY</c>); IPv4 peers then appear as
    /// IPv4-mapped IPv6 addresses (<c>::ffff:a.b.c.d</c>, see <see cref="System.Net.IPAddress.MapToIPv4"/>).
    /// Default <see langword="false"/>: an IPv6 listener accepts IPv6 only, whatever the system default.
    /// Setting it for an IPv4 endpoint makes <c>Bind</c> throw <see cref="ArgumentException"/>.
    /// </summary>
    public bool DualMode { get; init; }
}
