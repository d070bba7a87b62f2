using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Packaging.Tests;

/// <summary>Runs the dotnet CLI (and git) as a child process with a deadline, capturing its output.</summary>
internal static class Dotnet
{
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    /// <summary>The configuration these tests were built in: the libraries were built in it too.</summary>
    public static string Configuration { get; } = Metadata("Configuration");

    public static (int ExitCode, string Output) Run(string fileName, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // A child build must not reuse (or leave behind) MSBuild nodes, nor inherit the test host's MSBuild settings.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {arguments}' did not finish within {timeout.TotalSeconds} s:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    public static string Check(string fileName, string arguments, string workingDirectory, TimeSpan timeout)
    {
        (int exit, string output) = Run(fileName, arguments, workingDirectory, timeout);
        Assert.True(exit == 0, $"'{fileName} {arguments}' in {workingDirectory} exited with {exit}:\n{output}");
        return output;
    }

    private static string Metadata(string key) =>
        typeof(Dotnet).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
