using System.Diagnostics;

namespace Polling.Services;

/// <summary>
/// Counts every request through it into a <see cref="ServiceStats"/>: requests, failures (exceptions, and
/// responses that <c>isFailure</c> says are failures, e.g. HTTP 5xx), requests in flight and latency.
/// A request answered at once is counted without allocating.
/// </summary>
/// <example>
/// <code>
/// var stats = new ServiceStats("api");
/// var counted = new StatsFilter&lt;HttpRequest, HttpResponse&gt;(stats, r =&gt; r.Status &gt;= 500).AndThen(app);
/// </code>
/// </example>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class StatsFilter<TRequest, TResponse> : Filter<TRequest, TResponse>
{
    private readonly Func<TResponse, bool>? _isFailure;

    /// <summary>Creates the filter.</summary>
    /// <param name="stats">Where to count.</param>
    /// <param name="isFailure">Which responses count as failures; <see langword="null"/>: only exceptions do.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stats"/> is null.</exception>
    public StatsFilter(ServiceStats stats, Func<TResponse, bool>? isFailure = null)
    {
        ArgumentNullException.ThrowIfNull(stats);
        Stats = stats;
        _isFailure = isFailure;
    }

    /// <summary>Where the filter counts.</summary>
    public ServiceStats Stats { get; }

    /// <inheritdoc/>
    public override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TRequest, TResponse> next)
    {
        long start = Stopwatch.GetTimestamp();
        Stats.Started();
        ValueTask<TResponse> answer = Service.Call(next, request);
        if (answer.IsCompletedSuccessfully)
        {
            TResponse response = answer.Result; // consumes the task: hand on a fresh one
            Stats.Ended(start, _isFailure?.Invoke(response) ?? false);
            return new ValueTask<TResponse>(response);
        }

        return AwaitAnswer(answer, start);
    }

    private async ValueTask<TResponse> AwaitAnswer(ValueTask<TResponse> answer, long start)
    {
        TResponse response;
        try
        {
            response = await answer.ConfigureAwait(false);
        }
        catch
        {
            Stats.Ended(start, failed: true);
            throw;
        }

        Stats.Ended(start, _isFailure?.Invoke(response) ?? false);
        return response;
    }
}
