namespace Polling.Services;

/// <summary>
/// A timer that only moves when told to: for testing filters that schedule timeouts, with no real time and
/// no threads. <see cref="Advance"/> runs every task that has become due, in due order, on the calling thread.
/// </summary>
/// <example>
/// <code>
/// var timer = new ManualTimer();
/// var timeout = new TimeoutFilter&lt;string, string&gt;(TimeSpan.FromSeconds(1), timer);
/// ValueTask&lt;string&gt; answer = timeout.InvokeAsync("q", neverAnswers);
/// timer.Advance(TimeSpan.FromSeconds(1));      // answer is now faulted with TimeoutException
/// </code>
/// </example>
public sealed class ManualTimer : IServiceTimer
{
    private readonly SortedDictionary<(TimeSpan Due, long Id), ITimerTask> _tasks = new();
    private long _nextId;

    /// <summary>The time since the timer was made, moved only by <see cref="Advance"/>.</summary>
    public TimeSpan Now { get; private set; }

    /// <summary>Tasks scheduled and not yet run or cancelled.</summary>
    public int Pending => _tasks.Count;

    /// <inheritdoc/>
    public TimerHandle Schedule(TimeSpan delay, ITimerTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        long id = ++_nextId;
        _tasks.Add((Now + delay, id), task);
        return new TimerHandle(id);
    }

    /// <inheritdoc/>
    public bool Cancel(TimerHandle handle)
    {
        foreach (var key in _tasks.Keys)
        {
            if (key.Id == handle.Value)
            {
                return _tasks.Remove(key);
            }
        }

        return false;
    }

    /// <summary>Moves time forward by <paramref name="by"/> and runs every task due by then, earliest first.</summary>
    /// <param name="by">How far; zero runs what is due now.</param>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Now += by;
        while (_tasks.Count > 0)
        {
            var first = _tasks.First();
            if (first.Key.Due > Now)
            {
                break;
            }

            _tasks.Remove(first.Key);
            first.Value.Expire();
        }
    }
}
