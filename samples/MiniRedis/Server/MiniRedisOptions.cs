using MiniRedis.Protocol;

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
}
