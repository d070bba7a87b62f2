using System.Diagnostics;

namespace MiniRedis.Storage;

/// <summary>
/// Where the keyspace gets "now" for expiry, in milliseconds. <see cref="Monotonic"/> counts on
/// <c>CLOCK_MONOTONIC</c> (the clock of the timer wheel), so expiry neither jumps with the wall clock nor drifts
/// from the active sweep; tests drive a <see cref="ManualClock"/> instead.
/// </summary>
/// <example>
/// <code>
/// var keyspace = new Keyspace(Clock.Monotonic);
/// long now = Clock.Monotonic.NowMilliseconds;
/// </code>
/// </example>
public abstract class Clock
{
    /// <summary>Milliseconds on the monotonic clock.</summary>
    public static Clock Monotonic { get; } = new MonotonicClock();

    /// <summary>The current time in milliseconds.</summary>
    public abstract long NowMilliseconds { get; }

    private sealed class MonotonicClock : Clock
    {
        private static readonly long TicksPerMillisecond = Stopwatch.Frequency / 1000;

        public override long NowMilliseconds => Stopwatch.GetTimestamp() / TicksPerMillisecond;
    }
}

/// <summary>A clock that moves only when told to (tests of expiry to the millisecond).</summary>
/// <example>
/// <code>
/// var clock = new ManualClock(1_000);
/// clock.Advance(99);   // clock.NowMilliseconds == 1_099
/// </code>
/// </example>
public sealed class ManualClock(long start = 1_000_000) : Clock
{
    private long _now = start;

    /// <inheritdoc/>
    public override long NowMilliseconds => _now;

    /// <summary>Moves the clock forward by <paramref name="milliseconds"/>.</summary>
    public void Advance(long milliseconds) => _now += milliseconds;
}
