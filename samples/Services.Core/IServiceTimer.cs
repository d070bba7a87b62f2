namespace Polling.Services;

/// <summary>
/// Where filters schedule timeouts. On a server or client this is the <see cref="ServiceLoop"/> (its
/// <see cref="TimerWheel"/>, expiring on the loop thread); in tests a <see cref="ManualTimer"/> that the test
/// advances by hand, so a timeout is tested without waiting and without a network.
/// </summary>
/// <remarks>Implementations say which thread may call them; <see cref="ServiceLoop"/> wants its loop thread.</remarks>
/// <example>
/// <code>
/// TimerHandle handle = timer.Schedule(TimeSpan.FromSeconds(1), task);   // task.Expire() runs in a second
/// timer.Cancel(handle);                                                // unless cancelled first
/// </code>
/// </example>
public interface IServiceTimer
{
    /// <summary>Runs <paramref name="task"/>'s <see cref="ITimerTask.Expire"/> once <paramref name="delay"/> has passed.</summary>
    /// <param name="delay">From now; zero or more.</param>
    /// <param name="task">What to run.</param>
    /// <returns>The handle for <see cref="Cancel"/>.</returns>
    TimerHandle Schedule(TimeSpan delay, ITimerTask task);

    /// <summary>Cancels a scheduled task; <see langword="false"/> if it already ran or was cancelled.</summary>
    /// <param name="handle">What <see cref="Schedule"/> returned.</param>
    bool Cancel(TimerHandle handle);
}

/// <summary>What an <see cref="IServiceTimer"/> runs when a delay has passed.</summary>
/// <example>
/// <code>
/// sealed class Ring : ITimerTask { public void Expire() =&gt; Console.WriteLine("ring"); }
/// </code>
/// </example>
public interface ITimerTask
{
    /// <summary>Called once, on the timer's thread, when the delay has passed.</summary>
    void Expire();
}

/// <summary>Names one scheduled <see cref="ITimerTask"/>; <c>default</c> names none.</summary>
/// <param name="Value">The timer's own identifier; opaque to callers.</param>
/// <example>
/// <code>
/// TimerHandle h = timer.Schedule(TimeSpan.FromMilliseconds(50), task);
/// </code>
/// </example>
public readonly record struct TimerHandle(long Value);

/// <summary>Time-based helpers over any <see cref="IServiceTimer"/>.</summary>
/// <example>
/// <code>
/// await loop.Delay(TimeSpan.FromMilliseconds(200));   // continues on the loop thread
/// </code>
/// </example>
public static class TimerExtensions
{
    /// <summary>A task that completes, on the timer's thread, after <paramref name="delay"/>.</summary>
    /// <param name="timer">The timer to use.</param>
    /// <param name="delay">How long; zero completes at once.</param>
    public static ValueTask Delay(this IServiceTimer timer, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(timer);
        if (delay <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        var task = new DelayTask();
        timer.Schedule(delay, task);
        return new ValueTask(task.Completion.Task);
    }

    private sealed class DelayTask : ITimerTask
    {
        public TaskCompletionSource Completion { get; } = new();

        public void Expire() => Completion.TrySetResult();
    }
}
