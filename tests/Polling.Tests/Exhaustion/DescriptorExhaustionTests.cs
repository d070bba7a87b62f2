using Xunit;

namespace Polling.Tests.Exhaustion;

/// <summary>
/// Issue 9, "error paths need nothing that can be exhausted": in a child process at its descriptor limit
/// (<see cref="ExhaustionScenario"/>), every source's <c>Try…</c> and factory throws the documented exception
/// with its full message, <c>ToString()</c> works, nothing is loaded, and the process keeps working once
/// descriptors are back — on both backends.
/// </summary>
public class DescriptorExhaustionTests
{
    [Theory]
    [InlineData("epoll")]
    [InlineData("poll")]
    [InlineData("first-failure")]
    public void At_the_descriptor_limit_every_source_fails_cleanly_and_recovers(string backend)
    {
        (int exitCode, string output) = ChildProcess.Run(backend);
        Assert.True(exitCode == 0 && output.Contains("\nOK", StringComparison.Ordinal), $"child exited {exitCode}:\n{output}");
    }
}
