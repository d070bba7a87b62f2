namespace MiniRedis.Tests;

/// <summary>Command semantics and redis 7's reply and error texts, run on the executor alone (no sockets).</summary>
public sealed class CommandTests
{
    private readonly Db _db = new();

    [Fact]
    public void Ping_and_echo()
    {
        Assert.Equal("+PONG\r\n", _db.Run("PING"));
        Assert.Equal("$5\r\nhello\r\n", _db.Run("ping", "hello"));
        Assert.Equal("-ERR wrong number of arguments for 'ping' command\r\n", _db.Run("PING", "a", "b"));
        Assert.Equal("$3\r\na b\r\n", _db.Run("ECHO", "a b"));
        Assert.Equal("-ERR wrong number of arguments for 'echo' command\r\n", _db.Run("ECHO"));
    }

    [Fact]
    public void Set_and_get()
    {
        Assert.Equal("$-1\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "v1"));
        Assert.Equal("$2\r\nv1\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("set", "k", "a longer value than before"));
        Assert.Equal("$26\r\na longer value than before\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", ""));
        Assert.Equal("$0\r\n\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "bin", "a\r\n\0b"));
        Assert.Equal("$5\r\na\r\n\0b\r\n", _db.Run("GET", "bin"));
    }

    [Fact]
    public void Set_conditions()
    {
        Assert.Equal("$-1\r\n", _db.Run("SET", "k", "v", "XX"));
        Assert.Equal("$-1\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "v", "NX"));
        Assert.Equal("$-1\r\n", _db.Run("SET", "k", "w", "nx"));
        Assert.Equal("$1\r\nv\r\n", _db.Run("GET", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "w", "XX"));
        Assert.Equal("$1\r\nw\r\n", _db.Run("GET", "k"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("SET", "k", "v", "NX", "XX"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("SET", "k", "v", "BOGUS"));
        Assert.Equal("$1\r\nw\r\n", _db.Run("SET", "k", "x", "GET"));
        Assert.Equal("$-1\r\n", _db.Run("SET", "new", "x", "GET"));
        Assert.Equal("-ERR wrong number of arguments for 'set' command\r\n", _db.Run("SET", "k"));
    }

    [Fact]
    public void Set_expiry_options()
    {
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "v", "EX", "10"));
        Assert.Equal(":10\r\n", _db.Run("TTL", "k"));
        Assert.Equal(":10000\r\n", _db.Run("PTTL", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "v", "PX", "1500"));
        Assert.Equal(":1500\r\n", _db.Run("PTTL", "k"));
        Assert.Equal(":2\r\n", _db.Run("TTL", "k"));   // (1500 + 500) / 1000, as redis rounds
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "w", "KEEPTTL"));
        Assert.Equal(":1500\r\n", _db.Run("PTTL", "k"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "w"));
        Assert.Equal(":-1\r\n", _db.Run("PTTL", "k"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("SET", "k", "v", "EX", "1", "PX", "1"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("SET", "k", "v", "EX"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("SET", "k", "v", "KEEPTTL", "EX", "1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _db.Run("SET", "k", "v", "EX", "ten"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _db.Run("SET", "k", "v", "EX", "0"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _db.Run("SET", "k", "v", "PX", "-5"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _db.Run("SET", "k", "v", "EX", "9223372036854775807"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", _db.Run("SET", "k", "v", "PX", "9223372036854775807"));
    }

    [Fact]
    public void Wrong_type()
    {
        Assert.Equal(":1\r\n", _db.Run("LPUSH", "list", "a"));
        const string wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        Assert.Equal(wrongType, _db.Run("GET", "list"));
        Assert.Equal(wrongType, _db.Run("INCR", "list"));
        Assert.Equal(wrongType, _db.Run("SET", "list", "v", "GET"));
        Assert.Equal("$-1\r\n", _db.Run("MGET", "list")[4..]);
        Assert.Equal("+OK\r\n", _db.Run("SET", "s", "v"));
        Assert.Equal(wrongType, _db.Run("LPUSH", "s", "a"));
        Assert.Equal(wrongType, _db.Run("LRANGE", "s", "0", "-1"));
        Assert.Equal(wrongType, _db.Run("LLEN", "s"));
        Assert.Equal(wrongType, _db.Run("LPOP", "s"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "list", "now a string"));   // SET overwrites any type
        Assert.Equal("$12\r\nnow a string\r\n", _db.Run("GET", "list"));
    }

    [Fact]
    public void Counters()
    {
        Assert.Equal(":1\r\n", _db.Run("INCR", "n"));
        Assert.Equal(":11\r\n", _db.Run("INCRBY", "n", "10"));
        Assert.Equal(":10\r\n", _db.Run("DECR", "n"));
        Assert.Equal(":-5\r\n", _db.Run("DECRBY", "n", "15"));
        Assert.Equal("$2\r\n-5\r\n", _db.Run("GET", "n"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "n", "41"));
        Assert.Equal(":42\r\n", _db.Run("INCR", "n"));
        const string notInteger = "-ERR value is not an integer or out of range\r\n";
        Assert.Equal(notInteger, _db.Run("INCRBY", "n", "x"));
        Assert.Equal(notInteger, _db.Run("INCRBY", "n", "1.5"));
        Assert.Equal(notInteger, _db.Run("INCRBY", "n", " 1"));
        Assert.Equal(notInteger, _db.Run("INCRBY", "n", "01"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "t", "abc"));
        Assert.Equal(notInteger, _db.Run("INCR", "t"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "t", ""));
        Assert.Equal(notInteger, _db.Run("INCR", "t"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "max", "9223372036854775807"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", _db.Run("INCR", "max"));
        Assert.Equal("+OK\r\n", _db.Run("SET", "min", "-9223372036854775808"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", _db.Run("DECR", "min"));
        Assert.Equal("-ERR decrement would overflow\r\n", _db.Run("DECRBY", "n", "-9223372036854775808"));
        Assert.Equal("-ERR wrong number of arguments for 'incr' command\r\n", _db.Run("INCR"));
        Assert.Equal("-ERR wrong number of arguments for 'incrby' command\r\n", _db.Run("INCRBY", "n"));
    }

    [Fact]
    public void Incr_keeps_the_expiry()
    {
        _db.Run("SET", "n", "1", "PX", "5000");
        Assert.Equal(":2\r\n", _db.Run("INCR", "n"));
        Assert.Equal(":5000\r\n", _db.Run("PTTL", "n"));
    }

    [Fact]
    public void Multi_key()
    {
        Assert.Equal("+OK\r\n", _db.Run("MSET", "a", "1", "b", "2"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n", _db.Run("MGET", "a", "nope", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'mset' command\r\n", _db.Run("MSET", "a", "1", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'mset' command\r\n", _db.Run("MSET", "a"));
        Assert.Equal(":3\r\n", _db.Run("EXISTS", "a", "b", "a", "c"));
        Assert.Equal(":2\r\n", _db.Run("DEL", "a", "b", "c"));
        Assert.Equal(":0\r\n", _db.Run("EXISTS", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'del' command\r\n", _db.Run("DEL"));
        _db.Run("SET", "t", "v", "EX", "100");
        _db.Run("MSET", "t", "w");
        Assert.Equal(":-1\r\n", _db.Run("TTL", "t"));   // MSET drops the expiry, as SET does
    }

    [Fact]
    public void Keys_db_size_flush_db()
    {
        _db.Run("MSET", "user:1", "a", "user:2", "b", "order:1", "c", "h*llo", "d");
        Assert.Equal(":4\r\n", _db.Run("DBSIZE"));
        Assert.Equal(["user:1", "user:2"], Keys("user:*"));
        Assert.Equal(["order:1", "user:1"], Keys("*:1"));
        Assert.Equal(["user:1", "user:2"], Keys("user:[0-9]"));
        Assert.Equal(["user:2"], Keys("user:[^1]"));
        Assert.Equal(["h*llo"], Keys("h\\*llo"));
        Assert.Equal(["h*llo"], Keys("h?llo"));
        Assert.Equal(4, Keys("*").Length);
        Assert.Empty(Keys("nothing*"));
        Assert.Equal("-ERR syntax error\r\n", _db.Run("FLUSHDB", "NOW"));
        Assert.Equal("+OK\r\n", _db.Run("FLUSHDB"));
        Assert.Equal(":0\r\n", _db.Run("DBSIZE"));
        Assert.Equal("+OK\r\n", _db.Run("FLUSHDB", "async"));
    }

    [Fact]
    public void Lists()
    {
        Assert.Equal(":2\r\n", _db.Run("RPUSH", "l", "b", "c"));
        Assert.Equal(":4\r\n", _db.Run("LPUSH", "l", "a", "z"));   // z a b c
        Assert.Equal(":4\r\n", _db.Run("LLEN", "l"));
        Assert.Equal("*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", _db.Run("LRANGE", "l", "0", "-1"));
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", _db.Run("LRANGE", "l", "1", "2"));
        Assert.Equal("*1\r\n$1\r\nc\r\n", _db.Run("LRANGE", "l", "-1", "100"));
        Assert.Equal("*0\r\n", _db.Run("LRANGE", "l", "3", "1"));
        Assert.Equal("*0\r\n", _db.Run("LRANGE", "l", "10", "20"));
        Assert.Equal("*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", _db.Run("LRANGE", "l", "-100", "100"));
        Assert.Equal("*0\r\n", _db.Run("LRANGE", "missing", "0", "-1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _db.Run("LRANGE", "l", "a", "1"));
        Assert.Equal("$1\r\nz\r\n", _db.Run("LPOP", "l"));
        Assert.Equal("$1\r\nc\r\n", _db.Run("RPOP", "l"));
        Assert.Equal("*0\r\n", _db.Run("LPOP", "l", "0"));
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", _db.Run("LPOP", "l", "5"));
        Assert.Equal(":0\r\n", _db.Run("EXISTS", "l"));   // an emptied list is removed
        Assert.Equal("$-1\r\n", _db.Run("LPOP", "l"));
        Assert.Equal("*-1\r\n", _db.Run("RPOP", "l", "2"));
        Assert.Equal(":0\r\n", _db.Run("LLEN", "l"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", _db.Run("LPOP", "l", "-1"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", _db.Run("RPOP", "l", "x"));
        Assert.Equal("-ERR wrong number of arguments for 'lpop' command\r\n", _db.Run("LPOP", "l", "1", "2"));
        Assert.Equal("-ERR wrong number of arguments for 'lpush' command\r\n", _db.Run("LPUSH", "l"));
        Assert.Equal("-ERR wrong number of arguments for 'lrange' command\r\n", _db.Run("LRANGE", "l", "0"));
    }

    [Fact]
    public void List_grows_past_its_ring()
    {
        for (int i = 0; i < 100; i++)
        {
            _db.Run(i % 2 == 0 ? "RPUSH" : "LPUSH", "l", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(":100\r\n", _db.Run("LLEN", "l"));
        Assert.Equal("$2\r\n99\r\n", _db.Run("LPOP", "l"));
        Assert.Equal("$2\r\n98\r\n", _db.Run("RPOP", "l"));
        Assert.Equal("*2\r\n$2\r\n97\r\n$2\r\n95\r\n", _db.Run("LRANGE", "l", "0", "1"));
    }

    [Fact]
    public void Unknown_commands_are_named_with_their_arguments()
    {
        Assert.Equal("-ERR unknown command 'FOO', with args beginning with: \r\n", _db.Run("FOO"));
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: 'a' 'b c' \r\n", _db.Run("foo", "a", "b c"));
        Assert.Equal("-ERR unknown command 'x  y', with args beginning with: 'a b' \r\n", _db.Run("x\r\ny", "a\nb"));
        string reply = _db.Run("nope", new string('a', 100), new string('b', 100), "c");
        Assert.Equal("-ERR unknown command 'nope', with args beginning with: '" + new string('a', 100) + "' '" + new string('b', 25) + "' \r\n", reply);
        Assert.Equal("-ERR unknown command '" + new string('n', 128) + "', with args beginning with: \r\n", _db.Run(new string('n', 200)));
    }

    [Fact]
    public void Server_commands_for_the_real_clients()
    {
        Assert.Equal("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", _db.Run("CONFIG", "GET", "save"));
        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", _db.Run("CONFIG", "GET", "appendonly"));
        Assert.Equal("*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", _db.Run("config", "get", "save", "APPENDONLY"));
        Assert.Equal("*0\r\n", _db.Run("CONFIG", "GET", "nothing"));
        Assert.Equal("-ERR wrong number of arguments for 'config|get' command\r\n", _db.Run("CONFIG", "GET"));
        Assert.Equal("-ERR wrong number of arguments for 'config' command\r\n", _db.Run("CONFIG"));
        Assert.Equal("-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n", _db.Run("CONFIG", "foo"));
        Assert.Equal("-ERR wrong number of arguments for 'config|help' command\r\n", _db.Run("CONFIG", "HELP", "x"));
        Assert.Equal("-ERR wrong number of arguments for 'command|count' command\r\n", _db.Run("COMMAND", "COUNT", "x"));
        Assert.StartsWith("*", _db.Run("CONFIG", "HELP"));
        Assert.Equal("+OK\r\n", _db.Run("CLIENT", "SETNAME", "bench"));
        Assert.Equal("$5\r\nbench\r\n", _db.Run("CLIENT", "GETNAME"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", _db.Run("CLIENT", "SETNAME", "a b"));
        Assert.Equal("-ERR wrong number of arguments for 'client|setname' command\r\n", _db.Run("CLIENT", "SETNAME"));
        Assert.Equal(":1\r\n", _db.Run("CLIENT", "ID"));
        Assert.Equal("-ERR unknown subcommand 'bogus'. Try CLIENT HELP.\r\n", _db.Run("client", "bogus"));
        Assert.StartsWith("*30\r\n*10\r\n$4\r\nping\r\n:-1\r\n", _db.Run("COMMAND"));
        Assert.Equal(":30\r\n", _db.Run("COMMAND", "COUNT"));
        Assert.StartsWith("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n", _db.Run("COMMAND", "INFO", "get", "nope"));
        Assert.EndsWith("*-1\r\n", _db.Run("COMMAND", "INFO", "get", "nope"));
        Assert.Equal("*0\r\n", _db.Run("COMMAND", "DOCS"));
        Assert.Equal("+OK\r\n", _db.Run("SELECT", "0"));
        Assert.Equal("-ERR DB index is out of range\r\n", _db.Run("SELECT", "1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _db.Run("SELECT", "x"));
    }

    [Fact]
    public void Quit_replies_ok_and_asks_to_close()
    {
        Assert.Equal("+OK\r\n", _db.Run("QUIT"));
        Assert.Equal(Commands.AfterReply.Close, _db.LastOutcome);
        _db.Run("PING");
        Assert.Equal(Commands.AfterReply.Continue, _db.LastOutcome);
    }

    private string[] Keys(string pattern)
    {
        string reply = _db.Run("KEYS", pattern);
        string[] lines = reply.Split("\r\n");
        var keys = new List<string>();
        for (int i = 2; i < lines.Length; i += 2)
        {
            keys.Add(lines[i]);
        }

        keys.Sort(StringComparer.Ordinal);
        return [.. keys];
    }
}
