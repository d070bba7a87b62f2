namespace MiniRedis.Protocol;

/// <summary>Which command a <see cref="RespCommand"/> names; <see cref="Unknown"/> for a name MiniRedis does not know.</summary>
/// <example>
/// <code>
/// if (command.Kind == CommandKind.Get) { ... }
/// </code>
/// </example>
public enum CommandKind
{
    /// <summary>Not a MiniRedis command: answered with <c>-ERR unknown command ...</c>.</summary>
    Unknown,
#pragma warning disable CS1591 // one member per redis command, named as the command
    Ping, Echo, Get, Set, Del, Exists, Incr, Decr, IncrBy, DecrBy, MGet, MSet, Expire, PExpire, Ttl, PTtl,
    Keys, DbSize, FlushDb, LPush, RPush, LPop, RPop, LRange, LLen, Quit, Select, Config, Command, Client,
#pragma warning restore CS1591
}
