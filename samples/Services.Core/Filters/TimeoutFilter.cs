namespace Polling.Services;

/// <summary>
/// Fails a request with <see cref="TimeoutException"/> when the next service has not answered within a fixed time.
/// The timeout is scheduled on an <see cref="IServiceTimer"/> — on a server, the loop's <see cref="TimerWheel"/>, so a
/// million pending timeouts share one descriptor and expire on the loop thread.
/// </summary>
/// <remarks>
/// A response that is already there when the next service returns costs nothing: no timer is scheduled and
/// nothing is allocated. Otherwise one timer task is scheduled, cancelled when the answer comes first. When the
/// timeout wins, the next service's work is not interrupted; its late answer is dropped. The filter is used on the
/// timer's thread (on a server: the loop thread, where services are invoked).
/// </remarks>
/// <example>
/// <code>
/// var timeout = new TimeoutFilter&lt;AuthenticatedRequest, HttpResponse&gt;(TimeSpan.FromSeconds(1), loop);
/// Service&lt;AuthenticatedRequest, HttpResponse&gt; bounded = timeout.AndThen(timeline);
/// </code>
/// </example>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class TimeoutFilter<TRequest, TResponse> : Filter<TRequest, TResponse>
{
    private readonly IServiceTimer _timer;

    /// <summary>Creates the filter.</summary>
    /// <param name="timeout">How long the next service gets; more than zero.</param>
    /// <param name="timer">Where to schedule the timeout (a <see cref="ServiceLoop"/>, or a <see cref="ManualTimer"/> in tests).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="timer"/> is null.</exception>
    public TimeoutFilter(TimeSpan timeout, IServiceTimer timer)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout must be longer than zero.");
        }

        ArgumentNullException.ThrowIfNull(timer);
        Timeout = timeout;
        _timer = timer;
    }

    /// <summary>How long the next service gets.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Requests that the timeout failed.</summary>
    public long TimedOut { get; private set; }

    /// <inheritdoc/>
    public override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TRequest, TResponse> next)
    {
        ValueTask<TResponse> answer = Service.Call(next, request);
        if (answer.IsCompleted)
        {
            return answer;
        }

        var race = new Race(this, answer);
        race.Handle = _timer.Schedule(Timeout, race);
        race.Watch();
        return new ValueTask<TResponse>(race.Outcome.Task);
    }

    /// <summary>The answer against the clock: whichever comes first completes <see cref="Outcome"/>.</summary>
    private sealed class Race(TimeoutFilter<TRequest, TResponse> filter, ValueTask<TResponse> answer) : ITimerTask
    {
        private ValueTask<TResponse> _answer = answer;

        public TaskCompletionSource<TResponse> Outcome { get; } = new();

        public TimerHandle Handle { get; set; }

        public void Watch() => _answer.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnAnswer);

        public void Expire()
        {
            if (Outcome.TrySetException(new TimeoutException($"no answer within {filter.Timeout.TotalMilliseconds:0} ms")))
            {
                filter.TimedOut++;
            }
        }

        private void OnAnswer()
        {
            try
            {
                TResponse response = _answer.ConfigureAwait(false).GetAwaiter().GetResult();
                if (Outcome.TrySetResult(response))
                {
                    CancelTimer();
                }
            }
            catch (Exception error)
            {
                if (Outcome.TrySetException(error))
                {
                    CancelTimer();
                }
            }
        }

        private void CancelTimer()
        {
            try
            {
                filter._timer.Cancel(Handle);
            }
            catch (InvalidOperationException)
            {
                // The answer came on another thread and the timer is thread-bound: the timer task stays, and when
                // it fires it finds the race decided and does nothing.
            }
        }
    }
}
