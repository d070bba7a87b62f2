using System.Diagnostics;
using System.Net;

namespace Polling.TestSupport;

/// <summary>A demo program run as its own process (the dll next to the tests), as a user runs it.</summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;

    public DemoProcess(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        Task<string?> first = _process.StandardOutput.ReadLineAsync();
        if (!first.Wait(TimeSpan.FromSeconds(60)) || first.Result is not { } line || !line.StartsWith("listening on 127.0.0.1:", StringComparison.Ordinal))
        {
            _process.Kill();
            _process.WaitForExit();
            string errors = _process.StandardError.ReadToEnd();
            DisposeWithStreams();
            throw new InvalidOperationException($"{dll} did not say where it listens; stderr: {errors}");
        }

        FirstLine = line;
        EndPoint = IPEndPoint.Parse(line["listening on ".Length..]);
    }

    public string FirstLine { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public int Terminate()
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            _process.Kill();
            _process.WaitForExit();
            throw new TimeoutException("the demo did not exit after SIGTERM");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        DisposeWithStreams();
    }

    /// <summary>Process.Dispose leaves the streams a caller touched open (their pipes would wait for the finalizer).</summary>
    private void DisposeWithStreams()
    {
        _process.StandardOutput.Dispose();
        _process.StandardError.Dispose();
        _process.Dispose();
    }
}
