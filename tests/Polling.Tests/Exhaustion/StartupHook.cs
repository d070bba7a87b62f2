using Polling.Tests.Exhaustion;

/// <summary>
/// Lets the test assembly run as its own child process: <see cref="ChildProcess"/> starts
/// <c>dotnet exec Polling.Tests.dll</c> with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly and
/// <c>POLLING_EXHAUSTION_SCENARIO</c> naming what to run; the runtime calls <see cref="Initialize"/> before
/// <c>Main</c>, which runs the scenario and exits with its result. Without the variable it does nothing.
/// (A startup hook must be a class named <c>StartupHook</c> outside any namespace.)
/// </summary>
internal class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ChildProcess.ScenarioVariable) is { Length: > 0 } scenario)
        {
            Environment.Exit(ExhaustionScenario.Run(scenario));
        }
    }
}
