namespace Polling.Tests;

/// <summary>Counts this process's open descriptors, for leak tests (run them in the DescriptorCounting collection).</summary>
internal static class Descriptors
{
    /// <summary>
    /// Open descriptors that are not files: sockets, pipes, epoll/eventfd/timerfd — what sources own.
    /// Files are left out because the runtime maps assemblies it loads lazily (two descriptors each,
    /// e.g. Microsoft.Win32.Registry.dll appearing mid-run), and that is not our leak.
    /// </summary>
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Count(path => !IsFile(path));

    private static bool IsFile(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget?.StartsWith('/') != false;
        }
        catch (IOException)
        {
            return true; // closed while we looked: not ours to count
        }
    }

    /// <summary>"3 -> socket:[123], ..." for a failure message.</summary>
    public static string Describe() => string.Join(", ",
        Directory.GetFileSystemEntries("/proc/self/fd").Where(path => !IsFile(path)).Select(path =>
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
