using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Protocol;
using MiniRedis.Server;

namespace MiniRedis.Tests;

/// <summary>End to end through real sockets: the loop, pipelining, fragmentation, errors and closes.</summary>
public sealed class ServerTests
{
    [Fact]
    public void The_bench_harness_smoke_check_gets_exactly_redis_bytes()
    {
        using var server = new RunningServer();
        using Socket client = server.Connect();
        string request = Resp.Command("PING") + Resp.Command("SET", "bench:smoke:s", "v1") + Resp.Command("GET", "bench:smoke:s")
            + Resp.Command("SET", "bench:smoke:n", "41") + Resp.Command("INCR", "bench:smoke:n")
            + Resp.Command("MSET", "bench:smoke:a", "x", "bench:smoke:b", "y") + Resp.Command("GET", "bench:smoke:b");
        const string expected = "+PONG\r\n+OK\r\n$2\r\nv1\r\n+OK\r\n:42\r\n+OK\r\n$1\r\ny\r\n";
        Assert.Equal(expected, client.Exchange(request, expected));
    }

    [Fact]
    public void A_command_split_into_single_bytes_is_served()
    {
        using var server = new RunningServer();
        using Socket client = server.Connect();
        byte[] request = Resp.Bytes(Resp.Command("SET", "k", "hello world") + "GET k\r\n");
        foreach (byte b in request)
        {
            client.Send([b]);
        }

        Assert.Equal("+OK\r\n$11\r\nhello world\r\n", client.Receive(23));
    }

    [Fact]
    public void A_thousand_pipelined_commands_are_answered_in_order()
    {
        using var server = new RunningServer();
        using Socket client = server.Connect();
        var request = new StringBuilder();
        var expected = new StringBuilder();
        for (int i = 1; i <= 1000; i++)
        {
            request.Append(Resp.Command("INCR", "n"));
            expected.Append(':').Append(i).Append("\r\n");
        }

        Assert.Equal(expected.ToString(), client.Exchange(request.ToString(), expected.ToString()));
    }

    [Fact]
    public void A_protocol_error_is_answered_then_the_connection_closes_and_the_server_lives_on()
    {
        using var server = new RunningServer();
        using (Socket client = server.Connect())
        {
            client.Send(Resp.Command("PING") + "*1\r\nx3\r\n" + Resp.Command("PING"));
            Assert.Equal("+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n", client.ReceiveToEnd());
        }

        using (Socket client = server.Connect())
        {
            client.Send("*99999999999999\r\n");
            Assert.Equal("-ERR Protocol error: invalid multibulk length\r\n", client.ReceiveToEnd());
        }

        using (Socket client = server.Connect())
        {
            client.Send("*1\r\n$536870913\r\n");
            Assert.Equal("-ERR Protocol error: invalid bulk length\r\n", client.ReceiveToEnd());
        }

        using (Socket client = server.Connect())
        {
            client.Send(new string('a', 70 * 1024));
            Assert.Equal("-ERR Protocol error: too big inline request\r\n", client.ReceiveToEnd());
        }

        using Socket healthy = server.Connect();
        Assert.Equal("+PONG\r\n", healthy.Exchange("PING\r\n", "+PONG\r\n"));
    }

    [Fact]
    public void Quit_answers_then_closes()
    {
        using var server = new RunningServer();
        using Socket client = server.Connect();
        client.Send("PING\r\nQUIT\r\nPING\r\n");
        Assert.Equal("+PONG\r\n+OK\r\n", client.ReceiveToEnd());
    }

    [Fact]
    public void A_client_that_shuts_down_its_side_still_gets_its_replies()
    {
        using var server = new RunningServer();
        using Socket client = server.Connect();
        client.Send("SET k v\r\nGET k\r\n");
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("+OK\r\n$1\r\nv\r\n", client.ReceiveToEnd());
    }

    [Fact]
    public void A_client_over_the_query_buffer_limit_is_closed_without_a_reply()
    {
        var options = new MiniRedisOptions { Limits = new RespLimits { MaxQueryBufferLength = 64 * 1024 } };
        using var server = new RunningServer(options);
        using Socket client = server.Connect();
        client.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$60000\r\n" + new string('v', 60000) + "\r\n");
        Assert.Equal("+OK\r\n", client.Receive(5));
        client.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$70000\r\n");
        Assert.Equal("", client.ReceiveToEnd());
    }

    [Fact]
    public void A_client_that_does_not_read_cannot_make_the_server_buffer_without_bound()
    {
        var options = new MiniRedisOptions { OutputHighWaterMark = 64 * 1024 };
        using var server = new RunningServer(options);
        using Socket client = server.Connect();
        client.ReceiveBufferSize = 16 * 1024;
        string element = new('e', 1000);
        var fill = new StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            fill.Append(Resp.Command("RPUSH", "big", element));
        }

        client.Send(fill.ToString());
        Assert.EndsWith(":99\r\n:100\r\n", client.Receive(ReplyLengthsOfPushes()));

        // 300 requests of ~100 KB replies each (30 MB), sent at once, read only later.
        int replyLength = Resp.Bytes(ExpectedRange(element)).Length;
        var ranges = new StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            ranges.Append("LRANGE big 0 -1\r\n");
        }

        client.Send(ranges.ToString());
        var buffer = new byte[64 * 1024];
        long received = 0;
        while (received < 300L * replyLength)
        {
            int n = client.Receive(buffer);
            Assert.True(n > 0);
            received += n;
        }

        Assert.Equal(300L * replyLength, received);
        Assert.True(server.Server.PeakOutputBytes <= options.OutputHighWaterMark + options.OutputHighWaterMark + (2 * replyLength),
            $"the server queued {server.Server.PeakOutputBytes} bytes for one client (high-water mark {options.OutputHighWaterMark}, reply {replyLength})");
    }

    [Fact]
    public void The_program_prints_its_address_and_exits_zero_on_sigterm()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "MiniRedis.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using StreamReader output = process.StandardOutput, errors = process.StandardError; // Process.Dispose leaves touched streams open
        try
        {
            Task<string?> line = output.ReadLineAsync();
            Assert.True(line.Wait(TimeSpan.FromSeconds(60)), "no 'listening on' line within 60 s");
            Assert.Matches(@"^listening on 127\.0\.0\.1:\d+$", line.Result);
            int port = int.Parse(line.Result!.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 })
            {
                client.Connect(System.Net.IPAddress.Loopback, port);
                Assert.Equal("+PONG\r\n", client.Exchange("PING\r\n", "+PONG\r\n"));
            }

            using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "still running 60 s after SIGTERM");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    [Fact]
    public void The_program_rejects_a_bad_port()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "MiniRedis.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "70000"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using StreamReader output = process.StandardOutput, errors = process.StandardError; // Process.Dispose leaves touched streams open
        Task<string> error = errors.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            process.WaitForExit();
            Assert.Fail("MiniRedis did not exit on a bad port within 60 s");
        }

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("usage: MiniRedis [port]", error.Result);
    }

    private static int ReplyLengthsOfPushes()
    {
        int total = 0;
        for (int i = 1; i <= 100; i++)
        {
            total += 3 + i.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        }

        return total;
    }

    private static string ExpectedRange(string element)
    {
        var text = new StringBuilder("*100\r\n");
        for (int i = 0; i < 100; i++)
        {
            text.Append("$1000\r\n").Append(element).Append("\r\n");
        }

        return text.ToString();
    }
}
