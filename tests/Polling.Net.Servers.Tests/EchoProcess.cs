using System.Diagnostics;
using Polling.TestSupport;

namespace Polling.Net.Servers.Tests;

/// <summary>The TcpEcho sample as a child process (optionally under <c>prlimit</c>), with its port, pid and CPU time.</summary>
internal sealed class EchoProcess : IDisposable
{
    private readonly Process _process;

    private EchoProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>Starts TcpEcho with <paramref name="arguments"/> after the port (0), under <c>prlimit --nofile=N:N</c> when <paramref name="descriptorLimit"/> is given.</summary>
    public static EchoProcess Start(int? descriptorLimit, params string[] arguments) =>
        Start(typeof(TcpEcho.EchoServer).Assembly.Location, descriptorLimit, arguments);

    /// <summary>As <see cref="Start(int?, string[])"/> for another sample program that prints "listening on 127.0.0.1:PORT".</summary>
    public static EchoProcess Start(string program, int? descriptorLimit, params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(descriptorLimit is null ? dotnet : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (descriptorLimit is { } limit)
        {
            start.ArgumentList.Add($"--nofile={limit}:{limit}");
            start.ArgumentList.Add(dotnet); // prlimit execs it: same pid
        }

        start.ArgumentList.Add(program);
        start.ArgumentList.Add("0");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        try
        {
            Task<string?> read = process.StandardOutput.ReadLineAsync();
            string? line = read.Wait(TimeSpan.FromSeconds(60)) ? read.Result : "(nothing within 60 s)";
            if (line is null || !line.StartsWith("listening on 127.0.0.1:", StringComparison.Ordinal))
            {
                throw new Xunit.Sdk.XunitException($"{Path.GetFileNameWithoutExtension(program)} did not start: '{line}' {process.StandardError.ReadToEnd()}");
            }

            return new EchoProcess(process, int.Parse(line[(line.LastIndexOf(':') + 1)..]));
        }
        catch
        {
            process.Kill();
            process.WaitForExit();
            process.DisposeWithStreams();
            throw;
        }
    }

    /// <summary>User + system CPU time of the process so far (from /proc/PID/stat, in clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        string stat = File.ReadAllText($"/proc/{Pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime (fields 14 and 15)
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>How many descriptors the process holds now.</summary>
    public int OpenDescriptors() => Directory.GetFileSystemEntries($"/proc/{Pid}/fd").Length;

    /// <summary>How many of the server's descriptors are sockets (the listener and its connections): what clients hold
    /// open. The runtime opens pipes and maps files lazily on its own schedule, so those are not counted.</summary>
    public int OpenSockets() => Directory.GetFileSystemEntries($"/proc/{Pid}/fd")
        .Count(fd => { try { return new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true; } catch (IOException) { return false; } });

    /// <summary>Sends SIGTERM and waits for the exit; returns the exit code and everything it printed after "listening on".</summary>
    public (int ExitCode, string Output) Terminate()
    {
        Assert.Equal(0, Tmds.Linux.LibC.kill(Pid, Tmds.Linux.LibC.SIGTERM));
        Assert.True(_process.WaitForExit((int)Helpers.Deadline.TotalMilliseconds), "TcpEcho exits after SIGTERM");
        return (_process.ExitCode, _process.StandardOutput.ReadToEnd() + _process.StandardError.ReadToEnd());
    }

    public void Dispose() => _process.KillAndDispose();
}
