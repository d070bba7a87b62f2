using System.Diagnostics;
using System.Text;

namespace Polling.Tests.Exhaustion;

/// <summary>Runs a scenario of this assembly in a child process (see <see cref="StartupHook"/>) and returns what it printed.</summary>
internal static class ChildProcess
{
    public const string ScenarioVariable = "POLLING_EXHAUSTION_SCENARIO";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public static (int ExitCode, string Output) Run(string scenario)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        string dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        start.Environment[ScenarioVariable] = scenario;
        start.Environment["DOTNET_TieredPGO"] = "0";

        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
        var output = new StringBuilder();
        child.OutputDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.AppendLine(line.Data); };
        child.ErrorDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.AppendLine("stderr: " + line.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        if (!child.WaitForExit(Deadline))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            lock (output)
            {
                return (-1, $"timed out after {Deadline.TotalSeconds} s\n{output}");
            }
        }

        child.WaitForExit();
        lock (output)
        {
            return (child.ExitCode, output.ToString());
        }
    }
}
