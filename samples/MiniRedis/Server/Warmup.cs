using MiniRedis.Commands;
using MiniRedis.Protocol;
using MiniRedis.Storage;
using Polling;

namespace MiniRedis.Server;

/// <summary>
/// Runs every command, reply and protocol error once on a scratch keyspace before the server accepts anyone, so
/// that every type is initialised and every assembly loaded while descriptors are plentiful. Loading an assembly
/// opens a file: done lazily, the first client to arrive while descriptors are exhausted would make the load
/// fail — and a failed type initialiser fails for good, for every later client.
/// </summary>
internal static class Warmup
{
    private static readonly string[] Script =
    [
        "PING", "PING hi", "ECHO x", "SET k v", "SET k v EX 10", "SET k v PX 10 NX", "SET k v XX GET KEEPTTL", "SET k v BAD",
        "SET k v EX x", "SET k v EX 0", "GET k", "GET nokey", "DEL k nokey", "EXISTS k", "INCR n", "DECR n", "INCRBY n 5",
        "DECRBY n 2", "INCR k", "SET big 9223372036854775807", "INCR big", "MGET n k nokey", "MSET a 1 b 2", "MSET a",
        "EXPIRE a 10 NX", "EXPIRE a 10 XX GT", "EXPIRE a 1 LT", "EXPIRE a x", "EXPIRE a 1 BAD", "PEXPIRE a 100", "EXPIRE b -1",
        "TTL a", "PTTL a", "TTL nokey", "KEYS *", "KEYS a[a-z]?\\*", "DBSIZE", "LPUSH l a b", "RPUSH l c", "LRANGE l 0 -1",
        "LRANGE l x 1", "LLEN l", "LPOP l", "RPOP l 2", "LPOP l -1", "LPOP nokey 2", "GET l", "SELECT 0", "SELECT 1",
        "CONFIG GET save appendonly", "CONFIG SET a b", "CONFIG RESETSTAT", "CONFIG HELP", "CONFIG BAD", "COMMAND",
        "COMMAND COUNT", "COMMAND INFO get nokey", "COMMAND LIST", "COMMAND DOCS", "COMMAND HELP", "COMMAND BAD",
        "CLIENT SETNAME warmup", "CLIENT SETNAME \"a b\"", "CLIENT GETNAME", "CLIENT ID", "CLIENT HELP", "CLIENT BAD",
        "NOSUCH \"a\\x41\\n\" 'b'", "GET", "FLUSHDB", "FLUSHDB BAD",
    ];

    private static readonly string[] ProtocolErrors =
    [
        "*x\r\n", "*1\r\nx\r\n", "*1\r\n$-1\r\n", "GET \"x\r\n", "*1\r\n$1\r\n",
    ];

    public static void Run(ServerSettings settings)
    {
        using var wheel = new TimerWheel();
        var keyspace = new Keyspace(Clock.Monotonic, wheel);
        var executor = new CommandExecutor(keyspace, settings);
        var writer = new RespWriter();
        Feed(string.Join("\r\n", Script) + "\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", executor, writer);
        Feed("QUIT\r\n", executor, writer);
        foreach (string error in ProtocolErrors)
        {
            Feed(error, executor, writer);
        }

        keyspace.SweepExpired();
        keyspace.Clear();
    }

    private static void Feed(string text, CommandExecutor executor, RespWriter writer)
    {
        var session = new ClientSession(RespLimits.Default, new ClientState(0));
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(text);
        bytes.CopyTo(session.GetReadSpace());
        session.Commit(bytes.Length);
        while (session.Process(executor, writer, 1024) == SessionStatus.OutputFull)
        {
            writer.Clear();
        }

        writer.Clear();
    }
}
