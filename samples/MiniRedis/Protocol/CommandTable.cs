using MiniRedis.Storage;

namespace MiniRedis.Protocol;

/// <summary>
/// The commands MiniRedis serves, with redis 7's arities and key positions. <see cref="Find"/> resolves a name in
/// any letter case without allocating.
/// </summary>
/// <example>
/// <code>
/// CommandSpec? spec = CommandTable.Find("lPuSh"u8);   // spec.Kind == CommandKind.LPush
/// </code>
/// </example>
public static class CommandTable
{
    private const int LongestName = 16;

    private static readonly CommandSpec[] Specs =
    [
        new(CommandKind.Ping, "ping", -1, "fast", 0, 0, 0),
        new(CommandKind.Echo, "echo", 2, "fast", 0, 0, 0),
        new(CommandKind.Get, "get", 2, "readonly fast", 1, 1, 1),
        new(CommandKind.Set, "set", -3, "write denyoom", 1, 1, 1),
        new(CommandKind.Del, "del", -2, "write", 1, -1, 1),
        new(CommandKind.Exists, "exists", -2, "readonly fast", 1, -1, 1),
        new(CommandKind.Incr, "incr", 2, "write denyoom fast", 1, 1, 1),
        new(CommandKind.Decr, "decr", 2, "write denyoom fast", 1, 1, 1),
        new(CommandKind.IncrBy, "incrby", 3, "write denyoom fast", 1, 1, 1),
        new(CommandKind.DecrBy, "decrby", 3, "write denyoom fast", 1, 1, 1),
        new(CommandKind.MGet, "mget", -2, "readonly fast", 1, -1, 1),
        new(CommandKind.MSet, "mset", -3, "write denyoom", 1, -1, 2),
        new(CommandKind.Expire, "expire", -3, "write fast", 1, 1, 1),
        new(CommandKind.PExpire, "pexpire", -3, "write fast", 1, 1, 1),
        new(CommandKind.Ttl, "ttl", 2, "readonly fast", 1, 1, 1),
        new(CommandKind.PTtl, "pttl", 2, "readonly fast", 1, 1, 1),
        new(CommandKind.Keys, "keys", 2, "readonly", 0, 0, 0),
        new(CommandKind.DbSize, "dbsize", 1, "readonly fast", 0, 0, 0),
        new(CommandKind.FlushDb, "flushdb", -1, "write", 0, 0, 0),
        new(CommandKind.LPush, "lpush", -3, "write denyoom fast", 1, 1, 1),
        new(CommandKind.RPush, "rpush", -3, "write denyoom fast", 1, 1, 1),
        new(CommandKind.LPop, "lpop", -2, "write fast", 1, 1, 1),
        new(CommandKind.RPop, "rpop", -2, "write fast", 1, 1, 1),
        new(CommandKind.LRange, "lrange", 4, "readonly", 1, 1, 1),
        new(CommandKind.LLen, "llen", 2, "readonly fast", 1, 1, 1),
        new(CommandKind.Quit, "quit", -1, "fast", 0, 0, 0),
        new(CommandKind.Select, "select", 2, "loading stale fast", 0, 0, 0),
        new(CommandKind.Config, "config", -2, "", 0, 0, 0),
        new(CommandKind.Command, "command", -1, "loading stale", 0, 0, 0),
        new(CommandKind.Client, "client", -2, "", 0, 0, 0),
    ];

    private static readonly Dictionary<byte[], CommandSpec> ByName = Specs.ToDictionary(s => s.NameBytes, ByteArrayComparer.Instance);
    private static readonly Dictionary<byte[], CommandSpec>.AlternateLookup<ReadOnlySpan<byte>> ByNameSpan =
        ByName.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Every command, in a fixed order (for <c>COMMAND</c> and <c>COMMAND COUNT</c>).</summary>
    public static IReadOnlyList<CommandSpec> All => Specs;

    /// <summary>The command named <paramref name="name"/> (ASCII, any case), or <see langword="null"/>.</summary>
    public static CommandSpec? Find(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > LongestName)
        {
            return null;
        }

        Span<byte> lower = stackalloc byte[LongestName];
        for (int i = 0; i < name.Length; i++)
        {
            byte b = name[i];
            lower[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }

        return ByNameSpan.TryGetValue(lower[..name.Length], out CommandSpec? spec) ? spec : null;
    }
}
