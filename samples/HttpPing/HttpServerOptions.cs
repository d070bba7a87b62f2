using Polling;
using Polling.Net;

namespace HttpPing;

/// <summary>Limits and timeouts of an <see cref="HttpServer"/>.</summary>
/// <example>
/// <code>
/// var options = new HttpServerOptions { IdleTimeout = TimeSpan.FromSeconds(5), MaxBodyBytes = 0 };
/// using var server = new HttpServer(new IPEndPoint(IPAddress.Loopback, 8080), options);
/// </code>
/// </example>
public sealed record HttpServerOptions
{
    /// <summary>The longest request head (request line, header fields, empty line); longer gets 431 (414 for the request line).</summary>
    public int MaxHeaderBytes { get; init; } = HttpRequestParser.DefaultMaxHeaderBytes;

    /// <summary>The longest request body (read and discarded); longer gets 413.</summary>
    public long MaxBodyBytes { get; init; } = HttpRequestParser.DefaultMaxBodyBytes;

    /// <summary>
    /// How long a connection may go without completing a request (or taking response bytes) before it is closed:
    /// idle keep-alive connections and clients that trickle a request (slowloris) alike.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After the last response of a connection is sent, how long to wait for the client to close before closing.</summary>
    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Stop reading from a client while this many response bytes wait for it.</summary>
    public int HighWaterMark { get; init; } = OutputQueue.DefaultHighWaterMark;

    /// <summary>Bytes read per readiness (one buffer shared by all connections).</summary>
    public int ReadBufferSize { get; init; } = 64 * 1024;

    /// <summary>The Poll backend (epoll by default).</summary>
    public PollBackend Backend { get; init; } = PollBackend.Epoll;

    /// <summary>
    /// When set, the server holds at most as many connections as leave this many descriptors free below the process's
    /// limit, counted when <see cref="HttpServer.Run()"/> starts; a client beyond that is accepted and closed at once
    /// (redis's <c>maxclients</c>). <see langword="null"/> (the default): clients are shed only when descriptors run out.
    /// </summary>
    /// <remarks>The program sets <see cref="SignalHeadroom"/>; why, and how the cap is counted: <see cref="AcceptLoopOptions.DescriptorHeadroom"/>.</remarks>
    public int? DescriptorHeadroom { get; init; }

    /// <summary>The two descriptors the runtime needs to start its signal-handling thread, and two to spare.</summary>
    public const int SignalHeadroom = AcceptLoopOptions.SignalHeadroom;
}
