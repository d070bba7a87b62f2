namespace Polling.Services;

/// <summary>
/// Retries failed requests while a <see cref="RetryBudget"/> allows it, up to a number of attempts. By default only
/// failures where the request certainly never reached the remote service are retried
/// (<see cref="RejectedException"/>), or where the connection failed (<see cref="ConnectionFailedException"/>) —
/// use it for idempotent requests, or pass your own <c>isRetryable</c>.
/// </summary>
/// <remarks>
/// Every request deposits into the budget once; every retry withdraws once. A request answered at once passes
/// through without allocating. Retries happen immediately (the client's load balancer will pick another host).
/// </remarks>
/// <example>
/// <code>
/// var retry = new RetryFilter&lt;string, string&gt;(new RetryBudget(), maxRetries: 2);
/// Service&lt;string, string&gt; users = retry.AndThen(userClient);
/// </code>
/// </example>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class RetryFilter<TRequest, TResponse> : Filter<TRequest, TResponse>
{
    private readonly Func<Exception, bool> _isRetryable;
    private long _retries;
    private long _budgetExhausted;

    /// <summary>Creates the filter.</summary>
    /// <param name="budget">The budget retries come out of; share one per client.</param>
    /// <param name="maxRetries">Retries per request at most (0 or more).</param>
    /// <param name="isRetryable">Which failures to retry; default: <see cref="RejectedException"/> and <see cref="ConnectionFailedException"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="budget"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRetries"/> is negative.</exception>
    public RetryFilter(RetryBudget budget, int maxRetries = 3, Func<Exception, bool>? isRetryable = null)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        Budget = budget;
        MaxRetries = maxRetries;
        _isRetryable = isRetryable ?? (e => e is RejectedException or ConnectionFailedException);
    }

    /// <summary>The budget retries come out of.</summary>
    public RetryBudget Budget { get; }

    /// <summary>Retries per request at most.</summary>
    public int MaxRetries { get; }

    /// <summary>Retries made.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Retryable failures passed on because the budget was spent.</summary>
    public long BudgetExhausted => Interlocked.Read(ref _budgetExhausted);

    /// <inheritdoc/>
    public override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TRequest, TResponse> next)
    {
        Budget.Deposit();
        ValueTask<TResponse> answer = Service.Call(next, request);
        return answer.IsCompletedSuccessfully || MaxRetries == 0 ? answer : RetryAsync(answer, request, next);
    }

    private async ValueTask<TResponse> RetryAsync(ValueTask<TResponse> answer, TRequest request, Service<TRequest, TResponse> next)
    {
        for (int retry = 1; ; retry++)
        {
            try
            {
                return await answer.ConfigureAwait(false);
            }
            catch (Exception error) when (retry <= MaxRetries && _isRetryable(error) && Withdraw())
            {
                Interlocked.Increment(ref _retries);
                answer = Service.Call(next, request);
            }
        }
    }

    private bool Withdraw()
    {
        if (Budget.TryWithdraw())
        {
            return true;
        }

        Interlocked.Increment(ref _budgetExhausted);
        return false;
    }
}
