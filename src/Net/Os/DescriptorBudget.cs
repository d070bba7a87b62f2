using Polling.Os;

namespace Polling.Net.Os;

/// <summary>How many more descriptors this process may open: its soft RLIMIT_NOFILE less those open now.</summary>
internal static unsafe class DescriptorBudget
{
    /// <summary>
    /// <c>getrlimit(RLIMIT_NOFILE)</c> for the limit (a system call, no descriptor), and the entries of
    /// /proc/self/fd for those open (listing it opens one descriptor for a moment).
    /// </summary>
    /// <exception cref="IOException">/proc/self/fd could not be listed (e.g. no descriptor is free).</exception>
    public static long Free()
    {
        NativeMethods.rlimit limit;
        long soft = NativeMethods.getrlimit(NativeMethods.RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < long.MaxValue
            ? (long)limit.rlim_cur
            : long.MaxValue;

        // The listing's own directory descriptor is among the entries.
        int open = Directory.GetFileSystemEntries("/proc/self/fd").Length - 1;
        return Math.Max(0, soft - open);
    }
}
