using System.Diagnostics;

namespace Polling.Services;

/// <summary>
/// Latencies in power-of-two buckets of microseconds (bucket <c>i</c> holds [2^(i-1), 2^i) µs, bucket 0 below
/// 1 µs), up to about 35 minutes. Recording is one interlocked increment and allocates nothing; percentiles are
/// read from the buckets, so they are upper bounds within a factor of two.
/// </summary>
/// <example>
/// <code>
/// var latency = new LatencyHistogram();
/// latency.Record(TimeSpan.FromMilliseconds(3));
/// TimeSpan p99 = latency.Percentile(0.99);     // &lt;= 4.096 ms
/// </code>
/// </example>
public sealed class LatencyHistogram
{
    /// <summary>The number of buckets.</summary>
    public const int BucketCount = 32;

    private readonly long[] _buckets = new long[BucketCount];

    /// <summary>Latencies recorded.</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (int i = 0; i < BucketCount; i++)
            {
                total += Volatile.Read(ref _buckets[i]);
            }

            return total;
        }
    }

    /// <summary>How many latencies fell in bucket <paramref name="index"/>.</summary>
    /// <param name="index">0 to <see cref="BucketCount"/> − 1.</param>
    public long this[int index] => Volatile.Read(ref _buckets[index]);

    /// <summary>The upper bound of bucket <paramref name="index"/>: 2^index µs.</summary>
    /// <param name="index">0 to <see cref="BucketCount"/> − 1.</param>
    public static TimeSpan UpperBound(int index) => TimeSpan.FromMicroseconds(1L << index);

    /// <summary>Records one latency.</summary>
    /// <param name="latency">How long it took; negative counts as zero.</param>
    public void Record(TimeSpan latency) => RecordMicroseconds((long)latency.TotalMicroseconds);

    /// <summary>Records the time since <paramref name="startTimestamp"/>, a <see cref="Stopwatch.GetTimestamp"/> value.</summary>
    /// <param name="startTimestamp">When it began.</param>
    public void RecordSince(long startTimestamp) =>
        RecordMicroseconds((Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000 / Stopwatch.Frequency);

    /// <summary>
    /// The latency under which <paramref name="fraction"/> of the recorded ones fall, as the upper bound of the bucket
    /// that holds it; <see cref="TimeSpan.Zero"/> when nothing was recorded.
    /// </summary>
    /// <param name="fraction">0 to 1, e.g. 0.99.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside [0, 1].</exception>
    public TimeSpan Percentile(double fraction)
    {
        if (fraction is < 0 or > 1 || double.IsNaN(fraction))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "A percentile is a fraction from 0 to 1, e.g. 0.99.");
        }

        long total = Count;
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        long wanted = Math.Max(1, (long)Math.Ceiling(total * fraction));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _buckets[i]);
            if (seen >= wanted)
            {
                return UpperBound(i);
            }
        }

        return UpperBound(BucketCount - 1);
    }

    private void RecordMicroseconds(long microseconds)
    {
        int bucket = microseconds <= 0 ? 0 : Math.Min(BucketCount - 1, 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)microseconds));
        Interlocked.Increment(ref _buckets[bucket]);
    }
}
