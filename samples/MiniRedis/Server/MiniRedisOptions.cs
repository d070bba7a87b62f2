using MiniRedis.Protocol;
using Polling.Net;

namespace MiniRedis.Server;

/// <summary>How a <see cref="MiniRedisServer"/> bounds what clients make it hold.</summary>
/// <example>
/// <code>
/// var server = new MiniRedisServer(new IPEndPoint(IPAddress.Loopback, 6380),
///     new MiniRedisOptions { Limits = new RespLimits { MaxQueryBufferLength = 16 &lt;&lt; 20 } });
/// </code>
/// </example>
public sealed record MiniRedisOptions
{
    /// <summary>redis's protocol limits and 256 KiB of queued replies per client.</summary>
    public static MiniRedisOptions Default { get; } = new();

    /// <summary>Protocol limits per connection (bulk length, inline length, query buffer).</summary>
    public RespLimits Limits { get; init; } = RespLimits.Default;

    /// <summary>
    /// Queued replies, in bytes, at which the server stops running a client's commands and reading from it until
    /// the client reads (a client that pipelines without reading cannot make the server buffer without bound).
    /// </summary>
    public int OutputHighWaterMark { get; init; } = 256 * 1024;

    /// <summary>
    /// When set, the server holds at most as many clients (redis's <c>maxclients</c>) as leave this many descriptors
    /// free below the process's limit, counted once it has opened its own; a client beyond that is accepted and closed at
    /// once. <see langword="null"/> (the default): no such bound, clients are shed only when descriptors run out.
    /// </summary>
    /// <remarks>The program sets <see cref="SignalHeadroom"/>; why, and how the cap is counted: <see cref="AcceptLoopOptions.DescriptorHeadroom"/>.</remarks>
    public int? DescriptorHeadroom { get; init; }

    /// <summary>The two descriptors the runtime needs to start its signal-handling thread, and two to spare.</summary>
    public const int SignalHeadroom = AcceptLoopOptions.SignalHeadroom;
}
