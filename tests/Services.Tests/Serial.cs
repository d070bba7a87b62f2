using Xunit;

namespace Services.Tests;

/// <summary>Tests that measure process-wide allocation run alone, so that no other test's allocations are counted.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Serial
{
    public const string Name = "serial (process-wide measurements)";
}
