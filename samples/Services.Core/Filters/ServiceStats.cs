namespace Polling.Services;

/// <summary>
/// What a <see cref="StatsFilter{TRequest,TResponse}"/> counts for one service: requests, failures, requests in
/// flight and a latency histogram. Safe to read from any thread while requests are counted.
/// </summary>
/// <example>
/// <code>
/// var stats = new ServiceStats("timeline");
/// Service&lt;HttpRequest, HttpResponse&gt; counted = new StatsFilter&lt;HttpRequest, HttpResponse&gt;(stats).AndThen(app);
/// Console.WriteLine(stats);   // "timeline: 12 requests, 1 failures, 0 pending, p50 &lt;= 128 us, p99 &lt;= 1024 us"
/// </code>
/// </example>
public sealed class ServiceStats
{
    private long _requests;
    private long _failures;
    private long _pending;

    /// <summary>Creates empty statistics.</summary>
    /// <param name="name">The service's name, for reports.</param>
    public ServiceStats(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
    }

    /// <summary>The service's name.</summary>
    public string Name { get; }

    /// <summary>Requests started.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Requests that ended in an exception or a response counted as a failure.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Requests started and not yet answered.</summary>
    public long Pending => Volatile.Read(ref _pending);

    /// <summary>How long answered requests took (successes and failures).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>A one-line summary.</summary>
    public override string ToString() =>
        $"{Name}: {Requests} requests, {Failures} failures, {Pending} pending, " +
        $"p50 <= {Latency.Percentile(0.5).TotalMicroseconds:0} us, p99 <= {Latency.Percentile(0.99).TotalMicroseconds:0} us";

    internal void Started()
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _pending);
    }

    internal void Ended(long startTimestamp, bool failed)
    {
        Latency.RecordSince(startTimestamp);
        Interlocked.Decrement(ref _pending);
        if (failed)
        {
            Interlocked.Increment(ref _failures);
        }
    }
}
