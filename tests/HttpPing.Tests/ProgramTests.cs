using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Polling.TestSupport;

namespace HttpPing.Tests;

/// <summary>The HttpPing program as users run it: a child process, its output, its exit code, and a real client (curl).</summary>
public class ProgramTests
{
    [Theory]
    [InlineData(15)] // SIGTERM
    [InlineData(2)]  // SIGINT
    public void It_prints_its_port_answers_and_exits_zero_on_signal(int signal)
    {
        using var program = ServerProcess.Start("0");
        using (var client = new RawClient(new IPEndPoint(IPAddress.Loopback, program.Port)))
        {
            client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
            Assert.Equal("PONG", client.Read().Body);
        }

        Assert.Equal(0, program.Signal(signal));
        Assert.Contains("stopped after 1 connections, 1 requests", program.Output);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("70000")]
    [InlineData("1 --idle-timeout -3")]
    [InlineData("1 --bogus 3")]
    public void Bad_arguments_print_usage_and_exit_2(string arguments)
    {
        var start = ServerProcess.StartInfo(arguments.Split(' '));
        using Process process = Process.Start(start)!;
        using StreamReader output = process.StandardOutput, errors = process.StandardError; // Process.Dispose leaves touched streams open
        Task<string> error = errors.ReadToEndAsync();
        if (!process.WaitForExit(ServerProcess.Deadline))
        {
            process.Kill();
            process.WaitForExit();
            Assert.Fail($"HttpPing {arguments} did not exit");
        }

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("usage: HttpPing PORT", error.Result);
    }

    [CurlFact]
    public void Curl_gets_pong_over_one_kept_alive_connection_and_404_elsewhere_and_honours_close()
    {
        using var program = ServerProcess.Start("0");
        string url = $"http://127.0.0.1:{program.Port}";

        // Three URLs in one curl: it reuses the connection (num_connects 0 after the first) and sees PONG twice.
        (int exit, string output) = Curl("-s", "-w", " %{http_code} %{num_connects}\\n", $"{url}/ping", $"{url}/ping", $"{url}/nope");
        Assert.Equal(0, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["PONG 200 1", "PONG 200 0", "Not Found", " 404 0"], lines);

        (exit, output) = Curl("-s", "-i", "-H", "Connection: close", $"{url}/ping");
        Assert.Equal(0, exit);
        Assert.Contains("HTTP/1.1 200 OK", output);
        Assert.Contains("Connection: close", output);

        (exit, output) = Curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--http1.0", $"{url}/ping");
        Assert.Equal(0, exit);
        Assert.Equal("200", output);

        Assert.Equal(0, program.Signal(15));
    }

    [Fact]
    public void Out_of_descriptors_it_sheds_clients_and_serves_again_once_they_leave()
    {
        // 64 descriptors: the runtime takes a few dozen, so most of 100 clients find none left. The accept loop's
        // reserve descriptor sheds them (accept + close) instead of spinning or throwing; the served ones get PONG.
        using var program = ServerProcess.Start(["prlimit", "--nofile=64:64", "--"], ["0"]);
        var endpoint = new IPEndPoint(IPAddress.Loopback, program.Port);
        var clients = new List<RawClient>();
        int served = 0, shed = 0;
        try
        {
            for (int i = 0; i < 100; i++)
            {
                var client = new RawClient(endpoint);
                clients.Add(client);
                client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
            }

            foreach (RawClient client in clients)
            {
                try
                {
                    Assert.Equal("PONG", client.Read().Body);
                    served++;
                }
                catch (Exception e) when (IsShed(e))
                {
                    shed++;
                }
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.True(served > 0 && shed > 0, $"served {served}, shed {shed}");
        Assert.Equal(100, served + shed);

        // Descriptors come back as the clients leave: a new client is served (retry while the server closes the old ones).
        bool answered = false;
        for (var clock = Stopwatch.StartNew(); !answered && clock.Elapsed < ServerProcess.Deadline;)
        {
            using var client = new RawClient(endpoint);
            client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
            try
            {
                answered = client.Read().Body == "PONG";
            }
            catch (Exception e) when (IsShed(e))
            {
                // shed: the server had not closed enough of the old connections yet
            }
        }

        Assert.True(answered, "served again once descriptors were free");
        Assert.Equal(0, program.Signal(15));
    }

    [Fact]
    public void Sigterm_while_every_client_slot_is_taken_exits_zero_and_answers_the_held_clients()
    {
        // 100 clients at 64 descriptors; each held one has a request in flight when SIGTERM comes. .NET starts a new
        // thread for the handler and that thread opens a file: with no descriptor free the process aborted ("Out of
        // memory.", exit 134). The server must exit 0, and a held client gets its PONG or an orderly close, no reset.
        using var program = ServerProcess.Start(["prlimit", "--nofile=64:64", "--"], ["0"]);
        var endpoint = new IPEndPoint(IPAddress.Loopback, program.Port);
        var clients = new List<RawClient>();
        var held = new List<RawClient>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                var client = new RawClient(endpoint);
                clients.Add(client);
                client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
            }

            foreach (RawClient client in clients)
            {
                try
                {
                    Assert.Equal("PONG", client.Read().Body);
                    held.Add(client);
                }
                catch (Exception e) when (IsShed(e))
                {
                    // shed
                }
            }

            Assert.True(held.Count > 0 && held.Count < 100, $"held {held.Count} of 100: the limit was not reached, or nobody was served");
            held.ForEach(c => c.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
            int exit = program.Signal(15);
            Assert.True(exit == 0, $"exit code {exit}: {program.Output}");
            foreach (RawClient client in held)
            {
                Exception? error = Record.Exception(() => Assert.Equal("PONG", client.Read().Body));
                Assert.True(error is null or EndOfStreamException, $"after SIGTERM a held client got {error}");
                Assert.True(client.ReadsEndOfStream(), "then an orderly close");
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>What a client sees when the server shed it at the limit: an end of stream or a reset.</summary>
    private static bool IsShed(Exception e) => e is EndOfStreamException || (e is SocketException s && s.SocketErrorCode == SocketError.ConnectionReset);

    private static (int Exit, string Output) Curl(params string[] arguments)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--max-time", "10" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using Process curl = Process.Start(start)!;
        using StreamReader stdout = curl.StandardOutput, stderr = curl.StandardError; // Process.Dispose leaves touched streams open
        string output = stdout.ReadToEnd();
        Assert.True(curl.WaitForExit((int)RawClient.Deadline.TotalMilliseconds * 2), "curl finishes");
        return (curl.ExitCode, output);
    }
}

/// <summary>A fact that is skipped, with the reason, where curl is not installed (.ci/run installs it).</summary>
public sealed class CurlFactAttribute : FactAttribute
{
    public CurlFactAttribute()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, "curl")));
        if (!found)
        {
            Skip = "curl is not installed (apt-get install curl; .ci/run does it).";
        }
    }
}

/// <summary>The HttpPing program in a child process, started and waited for with deadlines.</summary>
internal sealed class ServerProcess : IDisposable
{
    /// <summary>How long starting or stopping the program may take: generous, a loaded CI machine starts a runtime slowly.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Output { get; private set; } = "";

    public static ProcessStartInfo StartInfo(params string[] arguments) => StartInfo([], arguments);

    /// <summary>The program's start info, run through <paramref name="wrapper"/> (e.g. <c>prlimit --nofile=64:64 --</c>) if given.</summary>
    public static ProcessStartInfo StartInfo(string[] wrapper, string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string part in wrapper.Skip(1).Append(dotnet).Skip(wrapper.Length > 0 ? 0 : 1))
        {
            start.ArgumentList.Add(part);
        }

        start.ArgumentList.Add(typeof(HttpServer).Assembly.Location);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    public static ServerProcess Start(params string[] arguments) => Start([], arguments);

    public static ServerProcess Start(string[] wrapper, string[] arguments)
    {
        Process process = Process.Start(StartInfo(wrapper, arguments))!;
        Task<string?> read = process.StandardOutput.ReadLineAsync();
        string? line = read.Wait(Deadline) ? read.Result : "(nothing within the deadline)";
        if (line is null || !line.StartsWith("listening on 127.0.0.1:", StringComparison.Ordinal))
        {
            process.Kill();
            process.WaitForExit();
            string errors = process.StandardError.ReadToEnd();
            process.DisposeWithStreams();
            throw new InvalidOperationException($"unexpected first line '{line}': {errors}");
        }

        int port = int.Parse(line[(line.LastIndexOf(':') + 1)..]);
        Assert.NotEqual(0, port);
        return new ServerProcess(process, port);
    }

    /// <summary>Sends <paramref name="signal"/> and returns the exit code once the process exited.</summary>
    public int Signal(int signal)
    {
        Assert.Equal(0, Tmds.Linux.LibC.kill(_process.Id, signal));
        Assert.True(_process.WaitForExit(Deadline), "the server exits after the signal");
        Output = _process.StandardOutput.ReadToEnd();
        return _process.ExitCode;
    }

    public void Dispose() => _process.KillAndDispose();
}
