namespace Polling.Services;

/// <summary>
/// How many retries a client may make, as Finagle's <c>RetryBudget</c>: every request deposits into the budget,
/// every retry withdraws, so retries stay a fixed fraction of the traffic (<c>percentCanRetry</c>, default 20 %)
/// plus a small reserve for quiet clients (<c>minRetriesPerSecond</c>, default 10). Deposits expire after
/// <c>ttl</c> (default 10 s), so a burst of old successes cannot pay for a retry storm now. Without a budget a
/// failing backend receives up to (1 + retries) times its load exactly when it can least take it.
/// </summary>
/// <remarks>
/// Finagle's arithmetic: a deposit is worth 1000 units, a withdrawal costs 1000 / percentCanRetry, and the
/// balance is a reserve of minRetriesPerSecond × ttl seconds withdrawals plus everything deposited and
/// withdrawn within the last ttl (kept per second in a ring). Thread-safe; allocates nothing per call.
/// </remarks>
/// <example>
/// <code>
/// var budget = new RetryBudget(percentCanRetry: 0.1, minRetriesPerSecond: 5);
/// budget.Deposit();                   // once per request
/// if (budget.TryWithdraw()) retry();  // once per retry
/// </code>
/// </example>
public sealed class RetryBudget
{
    private const long DepositUnits = 1000;

    private readonly object _lock = new();
    private readonly long[] _perSecond;
    private readonly long _depositUnits;
    private readonly long _withdrawalUnits;
    private readonly long _reserveUnits;
    private readonly Func<long> _nowMilliseconds;
    private long _currentSecond;
    private long _windowSum;

    /// <summary>Creates a budget.</summary>
    /// <param name="percentCanRetry">Retries allowed per request, as a fraction (0 to 1000; 0.2 = one retry per five requests).</param>
    /// <param name="minRetriesPerSecond">Retries allowed whatever the traffic, per second of <paramref name="ttl"/>.</param>
    /// <param name="ttl">How long a deposit counts; 1 s to 60 s, whole seconds. Default 10 s.</param>
    /// <param name="nowMilliseconds">The clock (monotonic milliseconds); default <see cref="Environment.TickCount64"/>. Tests pass their own.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public RetryBudget(double percentCanRetry = 0.2, int minRetriesPerSecond = 10, TimeSpan? ttl = null, Func<long>? nowMilliseconds = null)
    {
        TimeSpan window = ttl ?? TimeSpan.FromSeconds(10);
        if (percentCanRetry is < 0 or > 1000 || double.IsNaN(percentCanRetry))
        {
            throw new ArgumentOutOfRangeException(nameof(percentCanRetry), percentCanRetry, "Pass a fraction of requests that may be retried, from 0 to 1000 (0.2 = 20 %).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(minRetriesPerSecond);
        if (window < TimeSpan.FromSeconds(1) || window > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), window, "The deposit lifetime must be 1 to 60 seconds.");
        }

        int seconds = (int)Math.Ceiling(window.TotalSeconds);
        _perSecond = new long[seconds];
        // With percentCanRetry = 0 requests earn nothing and only the reserve pays for retries.
        _depositUnits = percentCanRetry == 0 ? 0 : DepositUnits;
        _withdrawalUnits = percentCanRetry == 0 ? DepositUnits : Math.Max(1, (long)(DepositUnits / percentCanRetry));
        _reserveUnits = minRetriesPerSecond * (long)seconds * _withdrawalUnits;
        _nowMilliseconds = nowMilliseconds ?? (() => Environment.TickCount64);
        _currentSecond = _nowMilliseconds() / 1000;
    }

    /// <summary>Retries the budget allows right now.</summary>
    public long Balance
    {
        get
        {
            lock (_lock)
            {
                Advance();
                return Math.Max(0, (_reserveUnits + _windowSum) / _withdrawalUnits);
            }
        }
    }

    /// <summary>Counts one request into the budget. Call once per request, not per attempt.</summary>
    public void Deposit()
    {
        lock (_lock)
        {
            Advance();
            Add(_depositUnits);
        }
    }

    /// <summary>Takes one retry from the budget; <see langword="false"/> (and nothing taken) when it is spent.</summary>
    public bool TryWithdraw()
    {
        lock (_lock)
        {
            Advance();
            if (_reserveUnits + _windowSum < _withdrawalUnits)
            {
                return false;
            }

            Add(-_withdrawalUnits);
            return true;
        }
    }

    private void Add(long units)
    {
        _perSecond[_currentSecond % _perSecond.Length] += units;
        _windowSum += units;
    }

    /// <summary>Forgets the seconds that have left the window.</summary>
    private void Advance()
    {
        long now = _nowMilliseconds() / 1000;
        long steps = Math.Min(now - _currentSecond, _perSecond.Length);
        for (long i = 1; i <= steps; i++)
        {
            long slot = (_currentSecond + i) % _perSecond.Length;
            _windowSum -= _perSecond[slot];
            _perSecond[slot] = 0;
        }

        if (now > _currentSecond)
        {
            _currentSecond = now;
        }
    }
}
