namespace Polling.Tests;

/// <summary>Counts this process's open descriptors, for leak tests (run them in the DescriptorCounting collection).</summary>
internal static class Descriptors
{
    /// <summary>
    /// Open descriptors, not counting the runtime's handles on assembly files: an assembly loaded lazily
    /// during a test (e.g. for an exception message) holds two of those, and that is not our leak.
    /// </summary>
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Count(path => !IsAssembly(path));

    private static bool IsAssembly(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget?.EndsWith(".dll", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false; // closed while we looked
        }
    }

    /// <summary>"3 -> socket:[123], ..." for a failure message.</summary>
    public static string Describe() => string.Join(", ",
        Directory.GetFileSystemEntries("/proc/self/fd").Where(path => !IsAssembly(path)).Select(path =>
        {
            try
            {
                return $"{Path.GetFileName(path)} -> {new FileInfo(path).LinkTarget}";
            }
            catch (IOException)
            {
                return Path.GetFileName(path);
            }
        }));

    /// <summary>
    /// Asserts that the count comes back to <paramref name="before"/>. Descriptors that other tests left to
    /// finalizers may close meanwhile, so the count gets a few seconds (and collections) to settle; a real
    /// leak stays above <paramref name="before"/> and fails.
    /// </summary>
    public static void AssertBackTo(int before)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        int now = Count();
        while (now != before && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(20);
            now = Count();
        }

        Assert.True(now <= before, $"{now - before} descriptor(s) leaked: {before} open before, {now} after; open now: {Describe()}");
    }
}
