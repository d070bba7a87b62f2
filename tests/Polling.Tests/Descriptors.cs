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
    /// Asserts that the count is back to <paramref name="before"/> exactly, with no collection: the caller keeps the
    /// objects it disposed alive (<paramref name="keepAlive"/>), so a Dispose that forgot to close cannot be rescued
    /// by a SafeHandle finalizer. Take <paramref name="before"/> after a warm-up round, so that what the runtime opens
    /// lazily is already open.
    /// </summary>
    public static void AssertBackTo(int before, object? keepAlive = null)
    {
        int now = Count();
        GC.KeepAlive(keepAlive);
        Assert.True(now == before, $"{now - before} descriptor(s) leaked: {before} open before, {now} after (objects alive, no collection); open now: {Describe()}");
    }

    /// <summary>Asserts that every handle in <paramref name="handles"/> is closed (each source's Dispose really closed).</summary>
    public static void AssertAllClosed(IEnumerable<System.Runtime.InteropServices.SafeHandle> handles, string what)
    {
        int open = handles.Count(handle => !handle.IsClosed);
        Assert.True(open == 0, $"{open} {what} left their descriptor open after Dispose");
    }
}
