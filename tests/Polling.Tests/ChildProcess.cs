using System.Diagnostics;
using System.Reflection;

namespace Polling.Tests;

/// <summary>
/// Runs a test scenario in a child process — for what must not happen in the test host: a lowered descriptor
/// limit, descriptor exhaustion, a crash. The test assembly is its own child: <c>dotnet Polling.Tests.dll
/// --child &lt;Name&gt;</c> runs the public static method <c>int Name()</c> of a class marked
/// <see cref="ChildScenariosAttribute"/> and exits with what it returns (0 = passed).
/// </summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="scenario"/>, optionally under <c>prlimit --nofile=N:N</c> and with extra
    /// <paramref name="environment"/> variables; returns its exit code and output.
    /// </summary>
    public static (int ExitCode, string Output) Run(string scenario, int? nofile = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        var start = new ProcessStartInfo(nofile is null ? "dotnet" : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (nofile is { } limit)
        {
            start.ArgumentList.Add($"--nofile={limit}:{limit}");
            start.ArgumentList.Add("dotnet");
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--child");
        start.ArgumentList.Add(scenario);
        using var process = Process.Start(start)!;
        // Process.Dispose leaves streams the caller has touched open: dispose them here, or their pipes wait for the
        // finalizer, and a collection during a descriptor-counting test elsewhere closes them under its feet.
        using StreamReader output = process.StandardOutput, errors = process.StandardError;
        Task<string> stdout = output.ReadToEndAsync();
        Task<string> stderr = errors.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"timed out; output: {stdout.Result}{stderr.Result}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>Marks a class whose public static <c>int Name()</c> methods are child scenarios.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class ChildScenariosAttribute : Attribute;

/// <summary>The test assembly's entry point: only used when it is started as a child (<c>--child Name</c>).</summary>
internal static class ChildMain
{
    public static int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != "--child")
        {
            Console.Error.WriteLine("usage: dotnet Polling.Tests.dll --child <Scenario>   (tests run through dotnet test)");
            return 64;
        }

        MethodInfo? method = typeof(ChildMain).Assembly.GetTypes()
            .Where(type => type.GetCustomAttribute<ChildScenariosAttribute>() is not null)
            .Select(type => type.GetMethod(args[1], BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes))
            .FirstOrDefault(found => found is not null && found.ReturnType == typeof(int));
        if (method is null)
        {
            Console.Error.WriteLine($"no child scenario named {args[1]}");
            return 64;
        }

        return (int)method.Invoke(null, null)!;
    }
}
