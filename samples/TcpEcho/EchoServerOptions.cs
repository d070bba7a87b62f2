using Polling;
using Polling.Net;

namespace TcpEcho;

/// <summary>Settings of an <see cref="EchoServer"/>; the defaults suit a production echo service.</summary>
/// <example>
/// <code>
/// using var server = new EchoServer(new IPEndPoint(IPAddress.Loopback, 9000),
///     new EchoServerOptions { Backend = PollBackend.Poll, Trigger = Trigger.Level, IdleTimeout = TimeSpan.FromSeconds(10) });
/// </code>
/// </example>
public sealed record EchoServerOptions
{
    /// <summary>epoll (the default) or poll(2).</summary>
    public PollBackend Backend { get; init; } = PollBackend.Epoll;

    /// <summary>How the listener and the connections are registered: <see cref="Trigger.Edge"/> (the default) or <see cref="Trigger.Level"/>.</summary>
    public Trigger Trigger { get; init; } = Trigger.Edge;

    /// <summary>What the accept loop does when descriptors run out (default: shed with a reserve descriptor).</summary>
    public AcceptExhaustionRemedy Remedy { get; init; } = AcceptExhaustionRemedy.ShedWithReserve;

    /// <summary>
    /// Hold at most as many connections as leave this many descriptors free below the process's limit
    /// (<see cref="AcceptLoopOptions.DescriptorHeadroom"/>: the runtime's signal thread needs them to deliver SIGTERM).
    /// Default <see langword="null"/>: no cap; the program sets 4 (<c>--descriptor-headroom N</c>, 0 = off).
    /// </summary>
    public int? DescriptorHeadroom { get; init; }

    /// <summary>Close a connection that sends nothing (and takes nothing) for this long. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After <see cref="EchoServer.Stop"/>: how long connections get to take their pending echo and close. Default 5 s.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Listen backlog. Default 4096.</summary>
    public int Backlog { get; init; } = 4096;

    /// <summary>
    /// <c>SO_REUSEPORT</c> on the listener, so that several servers (one per event loop: <see cref="EchoLoops"/>,
    /// <c>--loops N</c>) listen on the same port and the kernel spreads new connections over them. Default off.
    /// </summary>
    public bool ReusePort { get; init; }
}
