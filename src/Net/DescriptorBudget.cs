using System.Globalization;

namespace Polling.Net;

/// <summary>How many more descriptors this process may open: its soft RLIMIT_NOFILE less those open now.</summary>
internal static class DescriptorBudget
{
    /// <summary>Reads /proc/self/limits and lists /proc/self/fd (each opens a descriptor for a moment).</summary>
    /// <exception cref="IOException">A /proc file could not be read (e.g. no descriptor is free).</exception>
    public static long Free()
    {
        long limit = long.MaxValue;
        foreach (string line in File.ReadLines("/proc/self/limits"))
        {
            // "Max open files            1024                 524288               files"
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                string soft = line["Max open files".Length..].TrimStart().Split(' ', 2)[0];
                if (long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                {
                    limit = value;
                }
            }
        }

        // The listing's own directory descriptor is among the entries.
        int open = Directory.GetFileSystemEntries("/proc/self/fd").Length - 1;
        return Math.Max(0, limit - open);
    }
}
