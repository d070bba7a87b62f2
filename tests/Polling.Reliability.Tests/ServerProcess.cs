using System.Diagnostics;
using Polling.TestSupport;

namespace Polling.Reliability.Tests;

/// <summary>
/// <see cref="EchoServer"/> in a child process (<c>dotnet Polling.Reliability.Tests.dll --echo-server epoll|poll N</c>),
/// so that clients and server each hold one descriptor per connection under their own RLIMIT_NOFILE. The child
/// prints <c>listening PORT</c>; each line <c>stats</c> on its stdin answers one line of counters; end of stdin stops it.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    public ServerProcess(PollBackend backend, int connections)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        start.ArgumentList.Add("--echo-server");
        start.ArgumentList.Add(backend.ToString());
        start.ArgumentList.Add(connections.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _process = Process.Start(start)!;
        string? line;
        try
        {
            line = ReadLine(TimeSpan.FromSeconds(60));
        }
        catch
        {
            Dispose();
            throw;
        }

        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            _process.Kill();
            _process.WaitForExit();
            string errors = _process.StandardError.ReadToEnd();
            Dispose();
            throw new Xunit.Sdk.XunitException($"the echo server process did not start: '{line}', stderr: {errors}");
        }

        EndPoint = new IPEndPoint(IPAddress.Loopback, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The server's counters: live, peak, accepted, bytes, faults, acceptFaults, fds, fdsAtStart, failure.</summary>
    public Dictionary<string, string> Stats()
    {
        _process.StandardInput.WriteLine("stats");
        _process.StandardInput.Flush();
        string? line = ReadLine(TimeSpan.FromSeconds(30)) ?? throw new Xunit.Sdk.XunitException($"the echo server process ended: {_process.StandardError.ReadToEnd()}");
        return line.Split(' ').Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
    }

    public long Stat(string name) => long.Parse(Stats()[name], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Stops the server (end of stdin) and returns its exit code.</summary>
    public int Stop()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            _process.Kill();
            _process.WaitForExit();
            throw new Xunit.Sdk.XunitException("the echo server process did not exit within 30 s of end of stdin");
        }

        return _process.ExitCode;
    }

    public void Dispose() => _process.KillAndDispose();

    private string? ReadLine(TimeSpan deadline)
    {
        Task<string?> read = _process.StandardOutput.ReadLineAsync();
        return read.Wait(deadline) ? read.Result : throw new Xunit.Sdk.XunitException($"the echo server process said nothing for {deadline.TotalSeconds} s");
    }
}

/// <summary>The test assembly's entry point when started as <see cref="ServerProcess"/>.</summary>
internal static class ServerMain
{
    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != "--echo-server" || !Enum.TryParse(args[1], out PollBackend backend))
        {
            Console.Error.WriteLine("usage: dotnet Polling.Reliability.Tests.dll --echo-server Epoll|Poll CONNECTIONS   (tests run through dotnet test)");
            return 64;
        }

        ProcessResources.EnsureDescriptorLimit(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) + 512);
        int fdsAtStart = ProcessResources.Descriptors();
        Console.Error.WriteLine($"at start: {ProcessResources.DescribeDescriptors()}");
        using var server = new EchoServer(backend);
        Console.WriteLine($"listening {server.EndPoint.Port}");
        while (Console.ReadLine() is { } command)
        {
            if (command == "stats")
            {
                Console.WriteLine(
                    $"live={server.Live} peak={server.Peak} accepted={server.Accepted} bytes={server.BytesEchoed} faults={server.ConnectionFaults} " +
                    $"acceptFaults={server.AcceptFaults} fds={ProcessResources.Descriptors()} fdsAtStart={fdsAtStart} " +
                    $"failure={(server.Failure is null ? "none" : server.Failure.GetType().Name)} " +
                    $"kinds={ProcessResources.DescribeDescriptors().Replace(" ", string.Empty, StringComparison.Ordinal)}");
            }
        }

        return server.Failure is null ? 0 : 1;
    }
}
