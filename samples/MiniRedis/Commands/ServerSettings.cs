using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>What <c>CONFIG GET</c> reports: the server's port and protocol limits.</summary>
/// <example>
/// <code>
/// var executor = new CommandExecutor(keyspace, new ServerSettings { Port = 6380 });
/// </code>
/// </example>
public sealed record ServerSettings
{
    /// <summary>The TCP port the server listens on.</summary>
    public int Port { get; init; } = 6380;

    /// <summary>The protocol limits in force.</summary>
    public RespLimits Limits { get; init; } = RespLimits.Default;
}
