namespace Polling.Benchmarks;

/// <summary>
/// Every benchmark checks what its calls returned, on both sides (Polling and the baseline): a would-block, a dead
/// timer key or an empty batch that went unnoticed would measure a call that did nothing.
/// </summary>
internal static class Require
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming <paramref name="what"/> unless <paramref name="ok"/>.</summary>
    public static void That(bool ok, string what)
    {
        if (!ok)
        {
            Fail(what);
        }
    }

    private static void Fail(string what) => throw new InvalidOperationException($"benchmark precondition failed: {what}");
}
