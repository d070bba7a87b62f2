using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace MiniRedis.Tests;

/// <summary>
/// MiniRedis beside the real thing: one command script goes to Debian's <c>redis-server</c> (7.0.15, started here on a
/// Unix socket, persistence off) and to MiniRedis, one command at a time, and every reply must be the same bytes —
/// values, integers, nil, arrays, and the error texts (unknown command, wrong arity for every command, wrong type,
/// not an integer, overflow, syntax, bad expire times), plus the expiry replies that do not depend on the clock's
/// milliseconds (TTL right after a SET EX; EXPIRE NX/XX/GT/LT; KEEPTTL; -1 and -2). <c>redis-server</c> must be
/// installed (<c>.ci/run</c> installs it); without it this test fails.
/// </summary>
public sealed class DifferentialTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>The script: multibulk commands, and raw lines (inline commands) where an entry starts with "inline:".</summary>
    private static readonly string[][] Script =
    [
        // connection and strings
        ["PING"], ["PING", "hello"], ["ECHO", "hello world"], ["ping"], ["PiNg", "x"],
        ["SET", "s", "v1"], ["GET", "s"], ["GET", "nosuch"], ["SET", "s", "v2", "GET"], ["GET", "s"],
        ["SET", "s", "v3", "NX"], ["SET", "fresh", "v", "XX"], ["SET", "fresh", "v", "NX"], ["SET", "fresh", "w", "XX", "GET"],
        ["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "EX"], ["SET", "k", "v", "EX", "abc"], ["SET", "k", "v", "EX", "0"],
        ["SET", "k", "v", "PX", "-5"], ["SET", "k", "v", "EX", "10", "PX", "10"], ["SET", "k", "v", "BOGUS"],
        ["SET", "bin", "a\r\nb\0c"], ["GET", "bin"], ["SET", "empty", ""], ["GET", "empty"],
        ["INCR", "n"], ["INCR", "n"], ["INCRBY", "n", "10"], ["DECR", "n"], ["DECRBY", "n", "3"], ["INCRBY", "n", "-20"],
        ["GET", "n"], ["INCR", "s"], ["INCRBY", "n", "abc"], ["INCRBY", "n", "1.5"], ["SET", "big", "9223372036854775806"],
        ["INCR", "big"], ["INCR", "big"], ["DECRBY", "n", "-9223372036854775808"], ["SET", "sp", " 1"], ["INCR", "sp"],
        ["SET", "lead", "01"], ["INCR", "lead"],
        ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b", "nosuch", "a"], ["MSET", "a", "1", "b"],
        ["DEL", "a", "b", "nosuch"], ["EXISTS", "a", "s", "s", "nosuch"], ["DEL", "s"], ["EXISTS", "s"],

        // lists
        ["RPUSH", "l", "a", "b", "c"], ["LPUSH", "l", "z", "y"], ["LLEN", "l"], ["LRANGE", "l", "0", "-1"],
        ["LRANGE", "l", "-100", "100"], ["LRANGE", "l", "3", "1"], ["LRANGE", "l", "1", "-2"], ["LRANGE", "l", "a", "1"],
        ["LRANGE", "nosuch", "0", "-1"], ["LPOP", "l"], ["RPOP", "l"], ["LPOP", "l", "2"], ["RPOP", "l", "0"],
        ["LPOP", "l", "-1"], ["LPOP", "l", "x"], ["LPOP", "nosuch"], ["LPOP", "nosuch", "2"], ["RPOP", "l", "10"],
        ["EXISTS", "l"], ["LLEN", "l"], ["RPUSH", "l2", "x"], ["LPOP", "l2", "1", "2"],

        // wrong type, both ways
        ["GET", "l2"], ["INCR", "l2"], ["SET", "str", "v"], ["LPUSH", "str", "x"], ["RPUSH", "str", "x"], ["LLEN", "str"],
        ["LRANGE", "str", "0", "1"], ["LPOP", "str"], ["MGET", "l2", "str"], ["SET", "l2", "now a string"], ["GET", "l2"],

        // expiry (only replies that do not depend on the clock's milliseconds)
        ["SET", "e", "v", "EX", "100"], ["TTL", "e"], ["EXPIRE", "e", "50"], ["TTL", "e"], ["EXPIRE", "e", "60", "NX"],
        ["EXPIRE", "e", "60", "XX"], ["TTL", "e"], ["EXPIRE", "e", "40", "GT"], ["EXPIRE", "e", "40", "LT"], ["TTL", "e"],
        ["EXPIRE", "e", "40", "NX", "XX"], ["EXPIRE", "e", "40", "GT", "LT"], ["EXPIRE", "e", "40", "BOGUS"],
        ["SET", "e", "w", "KEEPTTL"], ["TTL", "e"], ["SET", "e", "w"], ["TTL", "e"], ["PTTL", "e"], ["TTL", "nosuch"],
        ["PTTL", "nosuch"], ["EXPIRE", "nosuch", "10"], ["EXPIRE", "e", "abc"], ["PEXPIRE", "e", "100000"], ["TTL", "e"],
        ["EXPIRE", "e", "-1"], ["EXISTS", "e"], ["SET", "e", "v", "PX", "100000"], ["TTL", "e"],
        ["SET", "e", "v", "EX", "100", "KEEPTTL"], ["EXPIRE", "e", "9223372036854775807"],

        // keys
        ["FLUSHDB"], ["DBSIZE"], ["SET", "alpha", "1"], ["KEYS", "a*"], ["KEYS", "[ab]lpha"], ["KEYS", "*z*"],
        ["KEYS", "?lpha"], ["KEYS", "a\\lpha"], ["KEYS", "[^b]lpha"], ["DBSIZE"], ["SELECT", "0"], ["SELECT", "abc"],
        ["CLIENT", "SETNAME", "differential"], ["FLUSHDB", "BOGUS"],

        // wrong arity, every command
        ["GET"], ["GET", "a", "b"], ["ECHO"], ["SET", "k"], ["DEL"], ["EXISTS"], ["INCR"], ["DECR", "a", "b"], ["INCRBY", "k"],
        ["DECRBY", "k"], ["MGET"], ["MSET"], ["MSET", "k"], ["EXPIRE", "k"], ["PEXPIRE", "k"], ["TTL"], ["PTTL", "a", "b"],
        ["KEYS"], ["DBSIZE", "x"], ["LPUSH", "k"], ["RPUSH", "k"], ["LPOP"], ["RPOP"], ["LRANGE", "k", "0"], ["LLEN"],
        ["SELECT"], ["PING", "a", "b"], ["CLIENT"],

        // unknown commands
        ["NOSUCH"], ["NOSUCH", "x", "y"], ["GETX", "a b"],

        // inline commands
        ["inline:PING"], ["inline:SET inl value"], ["inline:GET inl"], ["inline:ECHO  spaced   out "], ["inline:EXISTS inl nosuch"],
        ["inline:NOSUCH a"],

        ["QUIT"],
    ];

    [Fact]
    public void Mini_redis_replies_byte_for_byte_as_redis_server()
    {
        using var redis = RedisServer.Start();
        using var mini = new RunningServer();
        using Socket toRedis = redis.Connect();
        using Socket toMini = mini.Connect();
        var redisReplies = new ReplyReader(toRedis);
        var miniReplies = new ReplyReader(toMini);

        var differences = new StringBuilder();
        foreach (string[] command in Script)
        {
            byte[] request = command[0].StartsWith("inline:", StringComparison.Ordinal)
                ? Resp.Bytes(command[0]["inline:".Length..] + "\r\n")
                : Resp.Bytes(Resp.Command(command));
            toRedis.Send(request);
            toMini.Send(request);
            string expected = redisReplies.Next();
            string actual = miniReplies.Next();
            if (expected != actual)
            {
                differences.Append(Show(string.Join(' ', command))).Append("\n  redis-server: ").Append(Show(expected))
                    .Append("\n  MiniRedis:    ").Append(Show(actual)).Append('\n');
            }
        }

        Assert.True(differences.Length == 0, $"replies differ:\n{differences}");
        Assert.Equal("", redisReplies.ToEnd());   // QUIT: both close after +OK
        Assert.Equal("", miniReplies.ToEnd());
    }

    private static string Show(string text) => text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    /// <summary>Reads whole RESP2 replies off a blocking socket (10 s receive timeout), as the bytes that came.</summary>
    private sealed class ReplyReader(Socket socket)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public string Next()
        {
            var reply = new StringBuilder();
            ReadValue(reply);
            return reply.ToString();
        }

        public string ToEnd()
        {
            string rest = Resp.Text(_buffer.AsSpan(_start, _end - _start));
            _start = _end;
            return rest + socket.ReceiveToEnd();
        }

        private void ReadValue(StringBuilder reply)
        {
            string line = ReadLine();
            reply.Append(line).Append("\r\n");
            switch (line[0])
            {
                case '$':
                    int length = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                    if (length >= 0)
                    {
                        reply.Append(ReadExactly(length + 2));
                    }

                    break;
                case '*':
                    int count = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                    for (int i = 0; i < count; i++)
                    {
                        ReadValue(reply);
                    }

                    break;
            }
        }

        private string ReadLine()
        {
            while (true)
            {
                int newline = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (newline >= 0)
                {
                    string line = Resp.Text(_buffer.AsSpan(_start, newline));
                    _start += newline + 2;
                    return line;
                }

                Fill();
            }
        }

        private string ReadExactly(int count)
        {
            while (_end - _start < count)
            {
                Fill();
            }

            string text = Resp.Text(_buffer.AsSpan(_start, count));
            _start += count;
            return text;
        }

        private void Fill()
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            int n = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            Assert.True(n > 0, $"the server closed the connection in the middle of a reply: '{Resp.Text(_buffer.AsSpan(0, _end))}'");
            _end += n;
        }
    }

    /// <summary>Debian's redis-server on a Unix socket in a fresh directory (no port to collide on), persistence off.</summary>
    private sealed class RedisServer : IDisposable
    {
        private readonly Process _process;
        private readonly string _directory;

        private RedisServer(Process process, string directory)
        {
            _process = process;
            _directory = directory;
        }

        private string SocketPath => Path.Combine(_directory, "redis.sock");

        public static RedisServer Start()
        {
            string? path = Environment.GetEnvironmentVariable("PATH")?.Split(':')
                .Select(dir => Path.Combine(dir, "redis-server")).FirstOrDefault(File.Exists);
            Assert.True(path is not null,
                "redis-server is not installed: this test compares MiniRedis with the real server. Install Debian's redis-server (apt-get install redis-server), as .ci/run does.");

            string directory = Directory.CreateTempSubdirectory("miniredis-diff-").FullName;
            var start = new ProcessStartInfo(path, ["--port", "0", "--unixsocket", Path.Combine(directory, "redis.sock"),
                "--save", "", "--appendonly", "no", "--dir", directory, "--daemonize", "no"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            Process process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new RedisServer(process, directory);
        }

        /// <summary>Connects once the server accepts (it creates its socket after start-up), within the deadline.</summary>
        public Socket Connect()
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
                try
                {
                    socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
                    return socket;
                }
                catch (SocketException) when (clock.Elapsed < Deadline && !_process.HasExited)
                {
                    socket.Dispose();
                    Thread.Sleep(10);   // not yet listening: poll for it, with a deadline
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
