using System.Diagnostics;
using System.Net;

namespace Polling.TestSupport;

/// <summary>A demo program run as its own process (the dll next to the tests), as a user runs it.</summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _errors;
    private string? _output;

    public DemoProcess(string dll, params string[] args)
        : this(null, dll, args)
    {
    }

    /// <summary>Starts <paramref name="dll"/>, under <c>prlimit --nofile=N:N</c> when <paramref name="descriptorLimit"/> is given.</summary>
    public DemoProcess(int? descriptorLimit, string dll, params string[] args)
    {
        var start = new ProcessStartInfo(descriptorLimit is null ? "dotnet" : "prlimit") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (descriptorLimit is int limit)
        {
            start.ArgumentList.Add($"--nofile={limit}:{limit}");
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _errors = _process.StandardError.ReadToEndAsync();
        Task<string?> first = _process.StandardOutput.ReadLineAsync();
        if (!first.Wait(TimeSpan.FromSeconds(60)) || first.Result is not { } line || !line.StartsWith("listening on 127.0.0.1:", StringComparison.Ordinal))
        {
            _process.Kill();
            _process.WaitForExit();
            string errors = _errors.Result;
            _process.DisposeWithStreams();
            throw new InvalidOperationException($"{dll} did not say where it listens; stderr: {errors}");
        }

        FirstLine = line;
        EndPoint = IPEndPoint.Parse(line["listening on ".Length..]);
    }

    public string FirstLine { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>What the program printed after its first line, and its standard error; once it has exited.</summary>
    public string Output => _process.HasExited ? _output ??= _process.StandardOutput.ReadToEnd() + _errors.Result : "(running)";

    /// <summary>For a failure message: the exit code and <see cref="Output"/> once the program exited (waiting up to 5 s, as one that crashed may still be dying), else "still running".</summary>
    public string Describe() =>
        _process.WaitForExit(TimeSpan.FromSeconds(5)) ? $"the demo exited with {_process.ExitCode}: {Output}" : "the demo is still running";

    /// <summary>Stops the program (SIGSTOP), e.g. so that clients fill its backlog before its loop runs again.</summary>
    public void Suspend() => Signal("-STOP");

    /// <summary>Lets a <see cref="Suspend"/>ed program run on (SIGCONT).</summary>
    public void Continue() => Signal("-CONT");

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public int Terminate()
    {
        SendTerminate();
        return WaitForExit();
    }

    /// <summary>Sends SIGTERM and returns at once (the clients may then watch the shutdown).</summary>
    public void SendTerminate() => Signal("-TERM");

    /// <summary>Waits up to 60 s for the program to exit and returns its exit code.</summary>
    public int WaitForExit()
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            _process.Kill();
            _process.WaitForExit();
            throw new TimeoutException("the demo did not exit after SIGTERM");
        }

        return _process.ExitCode;
    }

    public void Dispose() => _process.KillAndDispose();

    private void Signal(string signal)
    {
        using Process kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
