namespace Polling.Tests;

/// <summary>
/// Finds descriptors a test opened and left open, for leak tests (run them in the DescriptorCounting collection).
/// Descriptors are compared by identity ("7 -> socket:[123]"), not counted: a descriptor that something else in
/// the process closes meanwhile (a finalizer of an earlier test's garbage, the runtime's own pipes) neither hides a
/// leak nor fakes one.
/// </summary>
internal static class Descriptors
{
    /// <summary>
    /// The open descriptors that are not files — sockets, pipes, epoll/eventfd/timerfd, what sources own — after
    /// earlier tests' garbage is finalized. Call it once nothing of the test's own objects exists yet (after a
    /// warm-up round, so that what the runtime opens lazily is already open). Files are left out because the
    /// runtime maps assemblies it loads lazily (two descriptors each), and that is not our leak.
    /// </summary>
    public static Snapshot Baseline()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Take();
    }

    /// <summary>The open non-file descriptors now, with no collection.</summary>
    public static Snapshot Take() => new(Open().ToHashSet());

    /// <summary>Descriptors open now that were not open in <paramref name="before"/>.</summary>
    public static IReadOnlyList<string> OpenedSince(Snapshot before) => Open().Where(entry => !before.Entries.Contains(entry)).ToList();

    /// <summary>
    /// Asserts that no descriptor opened since <paramref name="before"/> is still open, with no collection: the
    /// caller keeps the objects it disposed alive (<paramref name="keepAlive"/>), so a Dispose that forgot to close
    /// cannot be rescued by a SafeHandle finalizer.
    /// </summary>
    public static void AssertNoneLeakedSince(Snapshot before, object? keepAlive = null)
    {
        IReadOnlyList<string> opened = OpenedSince(before);
        GC.KeepAlive(keepAlive);
        Assert.True(opened.Count == 0, $"{opened.Count} descriptor(s) leaked (objects alive, no collection): {string.Join(", ", opened.Select(Describe))}");
    }

    /// <summary>Asserts that every handle in <paramref name="handles"/> is closed (each source's Dispose really closed).</summary>
    public static void AssertAllClosed(IEnumerable<System.Runtime.InteropServices.SafeHandle> handles, string what)
    {
        int open = handles.Count(handle => !handle.IsClosed);
        Assert.True(open == 0, $"{open} {what} left their descriptor open after Dispose");
    }

    /// <summary>
    /// "7 -> socket:[123] (tcp 127.0.0.1:40000 -> :5000)" or "(unix /tmp/x.sock)": which socket a leaked one is, so that a
    /// failure says whether it is the test's, or e.g. a diagnostics client's connection to the runtime's IPC socket.
    /// </summary>
    private static string Describe(string entry)
    {
        int start = entry.IndexOf("socket:[", StringComparison.Ordinal);
        if (start < 0)
        {
            return entry;
        }

        string inode = entry[(start + "socket:[".Length)..].TrimEnd(']');
        foreach (string table in new[] { "tcp", "tcp6", "udp", "udp6", "unix" })
        {
            try
            {
                foreach (string line in File.ReadLines($"/proc/net/{table}").Skip(1))
                {
                    string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (table == "unix" && fields.Length >= 7 && fields[6] == inode)
                    {
                        return $"{entry} (unix {(fields.Length > 7 ? fields[7] : "unnamed")})";
                    }

                    if (table != "unix" && fields.Length >= 10 && fields[9] == inode)
                    {
                        return $"{entry} ({table} {Port(fields[1])} -> {Port(fields[2])}, state {fields[3]})";
                    }
                }
            }
            catch (IOException)
            {
                // no such table here
            }
        }

        return entry;

        static string Port(string hexAddress) => $"{hexAddress[..hexAddress.IndexOf(':')]}:{Convert.ToInt32(hexAddress[(hexAddress.IndexOf(':') + 1)..], 16)}";
    }

    /// <summary>"3 -> socket:[123]" for every open descriptor that is not a file.</summary>
    private static IEnumerable<string> Open()
    {
        foreach (string path in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked (or the directory's own descriptor): not ours to count
            }

            if (target is not null && !target.StartsWith('/'))
            {
                yield return $"{Path.GetFileName(path)} -> {target}";
            }
        }
    }

    /// <summary>A set of open descriptors, from <see cref="Baseline"/> or <see cref="Take"/>.</summary>
    public sealed record Snapshot(HashSet<string> Entries)
    {
        /// <summary>How many descriptors the snapshot holds.</summary>
        public int Count => Entries.Count;
    }
}
