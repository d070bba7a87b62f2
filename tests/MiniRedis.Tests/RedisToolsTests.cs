using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MiniRedis.Tests;

/// <summary>
/// MiniRedis driven by the real, unmodified clients of Debian's <c>redis-tools</c>: redis-cli (commands, errors,
/// <c>--pipe</c>) and redis-benchmark (every test it has for our commands, unpipelined and with <c>-P 16</c>).
/// The tools must be installed (<c>.ci/run</c> installs them): when they are missing these tests fail.
/// </summary>
public sealed partial class RedisToolsTests
{
    [Fact]
    public void Redis_cli_runs_commands_and_shows_errors()
    {
        using var server = new RunningServer();
        Assert.Equal("PONG", Cli(server, "PING"));
        Assert.Equal("OK", Cli(server, "SET", "greeting", "hello world"));
        Assert.Equal("hello world", Cli(server, "GET", "greeting"));
        Assert.Equal("", Cli(server, "GET", "missing"));
        Assert.Equal("1", Cli(server, "INCR", "n"));
        Assert.Equal("11", Cli(server, "INCRBY", "n", "10"));
        Assert.Equal("3", Cli(server, "RPUSH", "l", "a", "b", "c"));
        Assert.Equal("a\nb\nc", Cli(server, "LRANGE", "l", "0", "-1"));
        Assert.Equal("OK", Cli(server, "SET", "t", "v", "EX", "100"));
        Assert.Equal("100", Cli(server, "TTL", "t"));
        Assert.Equal("greeting", Cli(server, "KEYS", "gr*"));
        Assert.Equal("4", Cli(server, "DBSIZE"));
        Assert.Equal("save\n\nappendonly\nno", Cli(server, "CONFIG", "GET", "save", "appendonly"));
        Assert.Equal("ERR unknown command 'NOSUCH', with args beginning with: 'x' ", Cli(server, "NOSUCH", "x"));
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", Cli(server, "GET", "l"));
        Assert.Equal("ERR wrong number of arguments for 'get' command", Cli(server, "GET"));
        Assert.Equal("ERR value is not an integer or out of range", Cli(server, "INCR", "greeting"));
        Assert.Equal("ERR syntax error", Cli(server, "SET", "k", "v", "NX", "XX"));
        Assert.Equal("OK", Cli(server, "FLUSHDB"));
        Assert.Equal("0", Cli(server, "DBSIZE"));
    }

    [Fact]
    public void Redis_cli_pipe_mode_gets_every_reply()
    {
        using var server = new RunningServer();
        var input = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            input.Append(Resp.Command("SET", $"key:{i}", $"value {i}"));
        }

        input.Append("INCR counter\r\n");
        (int exit, string output, string errors) = Run("redis-cli", ["-h", "127.0.0.1", "-p", Port(server), "--pipe"], input.ToString());
        Assert.True(exit == 0, $"redis-cli --pipe exited {exit}: {output} {errors}");
        Assert.Contains("errors: 0, replies: 10001", output);
        Assert.Equal("10001", Cli(server, "DBSIZE"));
        Assert.Equal("value 9999", Cli(server, "GET", "key:9999"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void Redis_benchmark_completes_every_request(int pipeline)
    {
        using var server = new RunningServer();
        const int Requests = 2000;
        (int exit, string output, string errors) = Run("redis-benchmark",
            ["-h", "127.0.0.1", "-p", Port(server), "-n", Requests.ToString(CultureInfo.InvariantCulture), "-c", "50",
             "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-t", "ping,set,get,incr,lpush,rpush,lpop,rpop,mset,lrange_100"]);
        Assert.True(exit == 0, $"redis-benchmark -P {pipeline} exited {exit}: {errors}\n{output}");
        Assert.DoesNotContain("Error", errors);

        // One "====== TEST ======" header per test, each followed by "N requests completed in S seconds".
        string[] expectedTests = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "MSET (10 keys)", "LRANGE_100 (first 100 elements)"];
        MatchCollection completed = Completed().Matches(output);
        var done = completed.ToDictionary(m => m.Groups["test"].Value, m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture));
        foreach (string test in expectedTests)
        {
            Assert.True(done.TryGetValue(test, out int n), $"no result for {test} in:\n{output}");
            Assert.Equal(Requests, n);
        }
    }

    [GeneratedRegex(@"====== (?<test>.+?) ======\s+(?<n>\d+) requests completed in")]
    private static partial Regex Completed();

    private static string Port(RunningServer server) => server.Port.ToString(CultureInfo.InvariantCulture);

    private static string Cli(RunningServer server, params string[] command)
    {
        (int exit, string output, string errors) = Run("redis-cli", ["-h", "127.0.0.1", "-p", Port(server), .. command]);
        Assert.True(exit == 0, $"redis-cli {string.Join(' ', command)} exited {exit}: {errors}");
        return output.TrimEnd('\n');
    }

    private static (int Exit, string Output, string Errors) Run(string tool, string[] arguments, string? input = null)
    {
        string? path = Environment.GetEnvironmentVariable("PATH")?.Split(':')
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
        Assert.True(path is not null,
            $"{tool} is not installed: these tests drive MiniRedis with the real Redis clients. Install Debian's redis-tools (apt-get install redis-tools), as .ci/run does.");

        var start = new ProcessStartInfo(path, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using StreamReader stdout = process.StandardOutput, stderr = process.StandardError; // Process.Dispose leaves touched streams open
        Task<string> output = stdout.ReadToEndAsync();
        Task<string> errors = stderr.ReadToEndAsync();
        using (StreamWriter stdin = process.StandardInput)
        {
            if (input is not null)
            {
                stdin.Write(input);
            }
        }

        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill();
            process.WaitForExit();
            Assert.Fail($"{tool} {string.Join(' ', arguments)} did not finish within 120 s");
        }

        return (process.ExitCode, output.Result, errors.Result);
    }
}
