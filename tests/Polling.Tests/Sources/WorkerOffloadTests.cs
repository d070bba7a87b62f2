using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tmds.Linux;
using WorkerOffload;
using Xunit;
using Xunit.Abstractions;

namespace Polling.Tests.Sources;

public sealed class WorkerOffloadTests
{
    private readonly ITestOutputHelper _output;

    public WorkerOffloadTests(ITestOutputHelper output) => _output = output;

    /// <summary>A blocking test client with a read deadline, speaking the sample's line protocol.</summary>
    private sealed class Client : IDisposable
    {
        private readonly Socket _socket;
        private readonly StringBuilder _received = new();
        private readonly byte[] _buffer = new byte[4096];

        public Client(EndPoint server)
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                _socket.Connect(server);
            }
            catch
            {
                _socket.Dispose(); // a refused connect (the Stop test expects one) must not leave the socket to the finalizer
                throw;
            }

            _socket.ReceiveTimeout = (int)Loop.Patience.TotalMilliseconds;
        }

        public void Send(string text) => _socket.Send(Encoding.ASCII.GetBytes(text));

        /// <summary>The next reply line, or null at end of stream.</summary>
        public string? ReadLine()
        {
            while (true)
            {
                string text = _received.ToString();
                int newline = text.IndexOf('\n', StringComparison.Ordinal);
                if (newline >= 0)
                {
                    _received.Remove(0, newline + 1);
                    return text[..newline];
                }

                int read = _socket.Receive(_buffer);
                if (read == 0)
                {
                    return null;
                }

                _received.Append(Encoding.ASCII.GetString(_buffer, 0, read));
            }
        }

        public void Dispose() => _socket.Dispose();
    }

    private static (WorkerOffloadServer Server, Thread Loop) Start(WorkerOffloadOptions? options = null)
    {
        var server = new WorkerOffloadServer(new IPEndPoint(IPAddress.Loopback, 0), options);
        var loop = new Thread(server.Run) { IsBackground = true, Name = "worker-offload loop" };
        loop.Start();
        return (server, loop);
    }

    private static void StopAndJoin(WorkerOffloadServer server, Thread loop)
    {
        server.Stop();
        Assert.True(loop.Join(Loop.Patience), "the server did not stop");
        server.Dispose();
    }

    [Fact]
    public void ASlowJob_never_delays_other_connections_echo()
    {
        (WorkerOffloadServer server, Thread loop) = Start();
        try
        {
            using var slow = new Client(server.LocalEndPoint);
            var others = Enumerable.Range(0, 4).Select(_ => new Client(server.LocalEndPoint)).ToArray();
            var clock = Stopwatch.StartNew();
            slow.Send("work 2000\necho same connection\n");

            TimeSpan slowest = TimeSpan.Zero;
            for (int round = 0; round < 25; round++)
            {
                foreach ((Client client, int i) in others.Select((c, i) => (c, i)))
                {
                    TimeSpan start = clock.Elapsed;
                    client.Send($"echo client {i} round {round}\n");
                    Assert.Equal($"client {i} round {round}", client.ReadLine());
                    slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, (clock.Elapsed - start).Ticks));
                }
            }

            TimeSpan echoesDone = clock.Elapsed;
            Assert.Equal("same connection", slow.ReadLine());
            Assert.Equal("done 2000", slow.ReadLine());
            TimeSpan jobDone = clock.Elapsed;
            _output.WriteLine($"100 echo round trips on 4 connections done after {echoesDone.TotalMilliseconds:F0} ms " +
                $"(slowest {slowest.TotalMilliseconds:F1} ms); the 2 s job replied after {jobDone.TotalMilliseconds:F0} ms");

            Assert.True(jobDone >= TimeSpan.FromMilliseconds(2000), $"the job replied after {jobDone.TotalMilliseconds} ms");
            Assert.True(echoesDone < jobDone, "every echo round trip finished while the job was still running");
            Assert.True(slowest < TimeSpan.FromSeconds(1), $"an echo took {slowest.TotalMilliseconds} ms: the loop was blocked");
            foreach (Client client in others)
            {
                client.Dispose();
            }
        }
        finally
        {
            StopAndJoin(server, loop);
        }

        Assert.Equal(1, server.CompletedJobs);
    }

    [Fact]
    public void Stop_lets_running_jobs_reply_then_closes_and_returns()
    {
        (WorkerOffloadServer server, Thread loop) = Start();
        using var client = new Client(server.LocalEndPoint);
        client.Send("work 300\necho before stop\n");
        Assert.Equal("before stop", client.ReadLine());
        server.Stop();
        Assert.Equal("done 300", client.ReadLine());
        Assert.Null(client.ReadLine());
        Assert.True(loop.Join(Loop.Patience));
        Assert.Equal("Stop()", server.StopReason);
        Assert.Throws<SocketException>(() => new Client(server.LocalEndPoint).Dispose());
        server.Dispose();
    }

    [Fact]
    public void RepliesToBadRequests_and_serves_a_half_closed_client()
    {
        (WorkerOffloadServer server, Thread loop) = Start();
        try
        {
            using var client = new Client(server.LocalEndPoint);
            client.Send("hello\nwork -5\nwork 100\r\n");
            Assert.StartsWith("error", client.ReadLine());
            Assert.StartsWith("error", client.ReadLine());
            client.Send("echo bye\n");
            Assert.Equal("bye", client.ReadLine());
            Assert.Equal("done 100", client.ReadLine());

            using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                raw.Connect(server.LocalEndPoint);
                raw.Send("work 50\n"u8);
                raw.Shutdown(SocketShutdown.Send);
                raw.ReceiveTimeout = (int)Loop.Patience.TotalMilliseconds;
                var reply = new byte[64];
                int n = raw.Receive(reply);
                Assert.Equal("done 50\n", Encoding.ASCII.GetString(reply, 0, n));
                Assert.Equal(0, raw.Receive(reply));
            }

            client.Send(new string('x', WorkerOffloadServer.MaxLineLength + 1));
            Assert.Equal("error line too long", client.ReadLine());
            Assert.Null(client.ReadLine());
        }
        finally
        {
            StopAndJoin(server, loop);
        }
    }

    [Fact]
    public void IdleConnections_are_closed_by_the_timer_wheel()
    {
        (WorkerOffloadServer server, Thread loop) = Start(new WorkerOffloadOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        try
        {
            using var busy = new Client(server.LocalEndPoint);
            using var idle = new Client(server.LocalEndPoint);
            var clock = Stopwatch.StartNew();
            busy.Send("work 600\n");
            Assert.Null(idle.ReadLine());
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(200));
            Assert.Equal("done 600", busy.ReadLine()); // waiting for a job is not idle
        }
        finally
        {
            StopAndJoin(server, loop);
        }
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGINT")]
    public void TheSampleProgram_shuts_down_cleanly_on_a_signal_with_exit_code_zero(string signal)
    {
        // A child process, so that a real SIGTERM/SIGINT can be sent without risking the test host.
        string dll = Path.Combine(AppContext.BaseDirectory, "WorkerOffload.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { dll, "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start)!;
        using StreamReader output = process.StandardOutput, errors = process.StandardError; // Process.Dispose leaves touched streams open
        try
        {
            Task<string?> firstLine = output.ReadLineAsync();
            Assert.True(firstLine.Wait(Loop.Patience), "the program did not print where it listens");
            string? first = firstLine.Result;
            Assert.NotNull(first);
            Assert.StartsWith("listening on 127.0.0.1:", first);
            var endpoint = IPEndPoint.Parse(first["listening on ".Length..]);

            using var client = new Client(endpoint);
            client.Send("work 300\necho hi\n");
            Assert.Equal("hi", client.ReadLine());
            int number = signal == "SIGTERM" ? LibC.SIGTERM : LibC.SIGINT;
            Assert.Equal(0, LibC.kill(process.Id, number));

            Assert.Equal("done 300", client.ReadLine());
            Assert.Null(client.ReadLine());
            Assert.True(process.WaitForExit(Loop.Patience), "the sample did not exit after the signal");
            string rest = output.ReadToEnd();
            _output.WriteLine(first + "\n" + rest + errors.ReadToEnd());
            Assert.Equal(0, process.ExitCode);
            Assert.Contains($"stopped ({signal})", rest);
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
}
