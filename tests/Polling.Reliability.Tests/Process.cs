using System.Runtime.InteropServices;

namespace Polling.Reliability.Tests;

/// <summary>This process's resources: open descriptors, resident memory, and the descriptor limit.</summary>
internal static partial class ProcessResources
{
    private const int RlimitNofile = 7;

    /// <summary>Every open descriptor of this process (files included: a leak is a leak).</summary>
    public static int Descriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>Open sockets, pipes and anonymous inodes (epoll, eventfd, timerfd): what Polling's sources own.</summary>
    public static int NonFileDescriptors()
    {
        int count = 0;
        foreach (string path in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(path).LinkTarget is { } target && !target.StartsWith('/'))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }

        return count;
    }

    /// <summary>Every non-file descriptor as "fd -> target", for failure messages that must say which one.</summary>
    public static string ListNonFiles() => string.Join(", ",
        Directory.GetFileSystemEntries("/proc/self/fd").Select(path =>
        {
            try
            {
                return new FileInfo(path).LinkTarget is { } target && !target.StartsWith('/') ? $"{Path.GetFileName(path)}->{target}" : null;
            }
            catch (IOException)
            {
                return null;
            }
        }).Where(entry => entry is not null));

    /// <summary>
    /// Sockets and anonymous inodes (epoll, eventfd, timerfd): what the echo tests' Polling objects own. Pipes are
    /// left out there because the child process's stdio pipes close on the runtime's schedule, not ours.
    /// </summary>
    public static int SocketsAndAnonymousInodes() => Directory.GetFileSystemEntries("/proc/self/fd").Count(path =>
    {
        try
        {
            return new FileInfo(path).LinkTarget is { } target && (target.StartsWith("socket:", StringComparison.Ordinal) || target.StartsWith("anon_inode:", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    });

    /// <summary>
    /// The sockets and anonymous inodes of <see cref="SocketsAndAnonymousInodes"/> by identity ("7 -> socket:[123]"):
    /// compare two of these with <see cref="OpenedSince"/>, not two counts, so that a descriptor something else closes
    /// meanwhile (a finalizer of an earlier test's garbage) neither hides a leak nor fakes one.
    /// </summary>
    public static HashSet<string> SocketsAndAnonymousInodeSet() => Directory.GetFileSystemEntries("/proc/self/fd")
        .Select(path =>
        {
            try
            {
                return new FileInfo(path).LinkTarget is { } target && (target.StartsWith("socket:", StringComparison.Ordinal) || target.StartsWith("anon_inode:", StringComparison.Ordinal))
                    ? $"{Path.GetFileName(path)} -> {target}"
                    : null;
            }
            catch (IOException)
            {
                return null; // closed while we looked
            }
        })
        .OfType<string>()
        .ToHashSet();

    /// <summary>The entries of <paramref name="now"/> that <paramref name="before"/> does not have: what was opened and is still open.</summary>
    public static List<string> OpenedSince(HashSet<string> before, HashSet<string> now) => now.Where(entry => !before.Contains(entry)).ToList();

    /// <summary>
    /// Runs the finalizers of earlier tests' garbage, so that they do not close descriptors in the middle of a test
    /// that samples this process's descriptors.
    /// </summary>
    public static void SettleGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>"socket: 3, pipe: 2, anon_inode:[eventfd]: 4, /dev/null: 1" for failure messages.</summary>
    public static string DescribeDescriptors() => string.Join(", ",
        Directory.GetFileSystemEntries("/proc/self/fd")
            .Select(path =>
            {
                try
                {
                    string target = new FileInfo(path).LinkTarget ?? "?";
                    int bracket = target.IndexOf(":[", StringComparison.Ordinal);
                    return bracket > 0 && !target.StartsWith("anon_inode", StringComparison.Ordinal) ? target[..bracket] : target;
                }
                catch (IOException)
                {
                    return "closed";
                }
            })
            .GroupBy(kind => kind)
            .OrderByDescending(group => group.Count())
            .Select(group => $"{group.Key}: {group.Count()}"));

    /// <summary>Resident set size in KiB (VmRSS of /proc/self/status).</summary>
    public static long ResidentKib()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("/proc/self/status has no VmRSS line");
    }

    /// <summary>
    /// Makes sure this process may open at least <paramref name="needed"/> descriptors: raises the soft limit,
    /// and the hard limit too when it is lower (CI runs as root, which may). Fails — never skips — when it cannot.
    /// </summary>
    public static void EnsureDescriptorLimit(int needed)
    {
        if (GetRLimit(RlimitNofile, out RLimit limit) != 0)
        {
            throw new InvalidOperationException($"getrlimit(RLIMIT_NOFILE) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (limit.Current >= (ulong)needed)
        {
            return;
        }

        var raised = new RLimit { Current = (ulong)needed, Maximum = Math.Max(limit.Maximum, (ulong)needed) };
        if (SetRLimit(RlimitNofile, in raised) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException(
                $"this test needs {needed} descriptors but RLIMIT_NOFILE is {limit.Current} (hard {limit.Maximum}) and raising it failed " +
                $"with errno {errno}{(errno == 1 ? " (EPERM: only root may raise the hard limit)" : string.Empty)}. " +
                $"Run as root, or raise the limit first: `ulimit -Hn {needed}; ulimit -Sn {needed}` or `prlimit --nofile={needed}:{needed} dotnet test ...`.");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
