using Polling.Os;

namespace Polling;

/// <summary>
/// Many timeouts — one per connection, per request, per retry — on one <c>timerfd</c>: schedule a
/// <see cref="Token"/> to come back after a delay, and when the wheel's event arrives take every expired
/// token at once into a buffer you own with <see cref="TakeExpired"/>. Scheduling, rescheduling and
/// cancelling are O(1) and, like expiring, allocate nothing once the wheel has grown to its working size.
/// </summary>
/// <remarks>
/// <para><b>When to pick which.</b> Use a <see cref="TimerSource"/> for a handful of timers that each need
/// their own token, their own period or sub-millisecond precision (a tick, a heartbeat, a retry loop). Use a
/// <see cref="TimerWheel"/> for timeouts that come and go with your connections and mostly never fire: idle
/// and request timeouts are rescheduled on every read and cancelled on close, and thousands of them share one
/// descriptor, one registration and one event.</para>
/// <para><b>How it works.</b> A hierarchical timing wheel with 1 ms ticks (the design of Varghese and Lauck,
/// as in the Linux kernel and tokio): six levels of 64 slots, each level 64 times coarser than the one below,
/// so delays up to 2^36 ms (about 795 days) fit. A timeout sits in the slot of the level whose granularity
/// matches how far away it is, and moves down a level as its time gets close. A 64-bit occupancy mask per
/// level finds the next non-empty slot in a few instructions, and the wheel keeps its timerfd armed (absolute
/// time, <c>CLOCK_MONOTONIC</c>) for that slot, so the loop is woken only when something is due or must move
/// down a level (at most five extra wake-ups in a timeout's life, fewer the closer it is).</para>
/// <para><b>Timing.</b> A timeout never expires early: a delay is rounded up to the next whole millisecond
/// and expires at the first <see cref="TakeExpired"/> at or after that time — typically within a millisecond
/// plus the loop's own latency. A zero delay is due at once. Expired tokens come back earliest first (to the
/// millisecond), except that timeouts already due when they were scheduled come back first.</para>
/// <para><b>Readiness.</b> Readable once a timeout is due. Only <see cref="Interest.Readable"/> may be
/// registered. With <see cref="Trigger.Edge"/> call <see cref="TakeExpired"/> until it returns fewer tokens
/// than the buffer holds; <see cref="Trigger.Level"/> reports every wait while expired tokens wait to be taken.
/// Calling <see cref="TakeExpired"/> without an event is allowed (e.g. once per loop iteration).</para>
/// <para><b>Threads.</b> Not thread-safe: the loop thread owns the wheel. To time out work from other threads,
/// send the request into the loop with a <see cref="ChannelSource{T}"/>.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Timeouts = (Token)1;
/// using var wheel = new TimerWheel();
/// poll.Registry.Register(wheel, Timeouts, Interest.Readable);
/// Token connectionToken = (Token)42;
/// TimerKey key = wheel.Schedule(connectionToken, TimeSpan.FromSeconds(30));
///
/// Span&lt;Token&gt; expired = stackalloc Token[64];      // or a reused array
/// // in the event loop, on the wheel's event:
/// foreach (Event ev in events)
/// {
///     if (ev.Token != Timeouts) continue;
///     int n;
///     do
///     {
///         n = wheel.TakeExpired(expired);
///         foreach (Token t in expired[..n]) Console.WriteLine($"close idle connection {t}");
///     }
///     while (n == expired.Length);
/// }
/// </code>
/// </example>
public sealed class TimerWheel : ISource, IDisposable
{
    /// <summary>The wheel's tick: delays are rounded up to whole milliseconds.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest delay a wheel accepts: 2^36 − 1 ms, about 795 days.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(TimingWheel.MaxTicks - 1);

    private const long NanosecondsPerTick = 1_000_000;
    private const long NotArmed = long.MaxValue;

    private readonly TimingWheel _wheel;
    private readonly long _origin;
    private long _armedTick = NotArmed;
    private IoSource _io;

    /// <summary>Creates an empty wheel with room for <paramref name="capacity"/> timeouts before it grows.</summary>
    /// <param name="capacity">Timeouts to allocate room for up front (e.g. the expected connection count); it doubles when full.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    /// <exception cref="IOException">The kernel refused to create the timerfd.</exception>
    public TimerWheel(int capacity = 64)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                "A TimerWheel needs room for at least one timeout; pass a capacity of 1 or more (it grows by doubling when full).");
        }

        _wheel = new TimingWheel(capacity);
        _io = new IoSource(TimerFd.Create());
        _origin = TimerFd.Now();
    }

    /// <summary>The timerfd, for tests that probe the kernel's view of it.</summary>
    internal FdHandle Handle => _io.Handle;

    /// <summary>How many timeouts are scheduled, including expired ones not yet taken.</summary>
    public int Count => _wheel.Count;

    /// <summary>
    /// Schedules <paramref name="token"/> to be handed back by <see cref="TakeExpired"/> once
    /// <paramref name="delay"/> has passed (rounded up to the next millisecond). The same token may be
    /// scheduled several times; each schedule has its own key.
    /// </summary>
    /// <param name="token">What to hand back; typically the connection's token.</param>
    /// <param name="delay">From now; <see cref="TimeSpan.Zero"/> to <see cref="MaxDelay"/>.</param>
    /// <returns>The key for <see cref="Reschedule"/> and <see cref="Cancel"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or longer than <see cref="MaxDelay"/>.</exception>
    public TimerKey Schedule(Token token, TimeSpan delay)
    {
        ValidateDelay(delay);
        ThrowIfDisposed("schedule a timeout on");
        return ScheduleAt(token, DeadlineAfter(delay));
    }

    /// <summary>
    /// Moves a scheduled timeout to <paramref name="delay"/> from now, keeping its key. Returns
    /// <see langword="false"/> (and changes nothing) if the key is stale — the timeout already expired and was
    /// taken, or was cancelled — so the caller can <see cref="Schedule"/> a new one.
    /// </summary>
    /// <param name="key">The key <see cref="Schedule"/> returned.</param>
    /// <param name="delay">From now; <see cref="TimeSpan.Zero"/> to <see cref="MaxDelay"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or longer than <see cref="MaxDelay"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> was made by another wheel.</exception>
    public bool Reschedule(TimerKey key, TimeSpan delay)
    {
        ValidateDelay(delay);
        ThrowIfDisposed("reschedule a timeout on");
        return RescheduleAt(key, DeadlineAfter(delay));
    }

    /// <summary>
    /// Cancels a scheduled timeout: its token will not be handed back. Returns <see langword="false"/> if the
    /// key is stale (already expired and taken, or cancelled).
    /// </summary>
    /// <param name="key">The key <see cref="Schedule"/> returned.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> was made by another wheel.</exception>
    public bool Cancel(TimerKey key)
    {
        ThrowIfDisposed("cancel a timeout on");
        return _wheel.Cancel(key);
    }

    /// <summary><see langword="true"/> if <paramref name="key"/> names a timeout that has not been taken or cancelled.</summary>
    /// <param name="key">A key from <see cref="Schedule"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> was made by another wheel.</exception>
    public bool Contains(TimerKey key) => _wheel.Contains(key);

    /// <summary>
    /// Moves every due timeout's token into <paramref name="expired"/>, earliest first, and returns how many.
    /// A result equal to <c>expired.Length</c> means more may be due: call again. The taken keys go stale.
    /// Allocates nothing; also re-arms the wheel's timerfd for the next due time.
    /// </summary>
    /// <param name="expired">The buffer to fill; any length (a few dozen is plenty).</param>
    /// <exception cref="ArgumentException"><paramref name="expired"/> is empty.</exception>
    public int TakeExpired(Span<Token> expired)
    {
        if (expired.IsEmpty)
        {
            throw new ArgumentException(
                "The buffer for expired tokens is empty; pass a span with room for at least one token (a few dozen is plenty).", nameof(expired));
        }

        ThrowIfDisposed("take expired timeouts from");
        return TakeExpiredAt(expired, NowTick());
    }

    /// <summary>Deregisters the wheel and closes its timerfd. Idempotent; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => _io.Close();

    /// <summary>Returns e.g. <c>TimerWheel(fd 12, 3 scheduled)</c>.</summary>
    public override string ToString() =>
        _io.IsDisposed ? "TimerWheel(disposed)" : $"TimerWheel(fd {_io.Fd}, {_wheel.Count} scheduled)";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ValidateInterest(interest);
        _io.Register(registry, token, interest, trigger, this);
    }

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ValidateInterest(interest);
        _io.Reregister(registry, token, interest, trigger, this);
    }

    void ISource.Deregister(Registry registry) => _io.Deregister(registry, this);

    /// <summary>The tick up to which the wheel has processed time.</summary>
    internal long Elapsed => _wheel.Elapsed;

    /// <summary>The current tick: whole milliseconds since the wheel was created, rounded down.</summary>
    internal long NowTick() => (TimerFd.Now() - _origin) / NanosecondsPerTick;

    /// <summary><see cref="Schedule"/> with the deadline as a tick; tests drive the wheel with simulated time through this.</summary>
    internal TimerKey ScheduleAt(Token token, long deadline)
    {
        TimerKey key = _wheel.Schedule(token, deadline);
        ArmIfEarlier(deadline);
        return key;
    }

    /// <summary><see cref="Reschedule"/> with the deadline as a tick.</summary>
    internal bool RescheduleAt(TimerKey key, long deadline)
    {
        if (!_wheel.Reschedule(key, deadline))
        {
            return false;
        }

        ArmIfEarlier(deadline);
        return true;
    }

    /// <summary><see cref="TakeExpired"/> at a given tick (never earlier than a previous call's).</summary>
    internal int TakeExpiredAt(Span<Token> expired, long now)
    {
        int taken = _wheel.TakeExpired(expired, now, out bool drained);
        if (drained)
        {
            AfterDrain();
        }

        return taken;
    }

    private static void ValidateDelay(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero || delay > MaxDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay,
                $"A timeout's delay must be between TimeSpan.Zero and TimerWheel.MaxDelay ({MaxDelay.TotalDays:F0} days); for longer waits re-schedule from a shorter timeout.");
        }
    }

    private static void ValidateInterest(Interest interest)
    {
        if (interest != Interest.Readable)
        {
            throw new ArgumentException(
                $"A TimerWheel can only become readable; register it with Interest.Readable, not '{interest}'.", nameof(interest));
        }
    }

    /// <summary>
    /// The tick for now + <paramref name="delay"/>: rounded up so that no timeout fires early, except that a zero
    /// delay means the current tick, so the timeout is due at once.
    /// </summary>
    private long DeadlineAfter(TimeSpan delay)
    {
        long nanoseconds = TimerFd.Now() - _origin;
        return delay == TimeSpan.Zero
            ? nanoseconds / NanosecondsPerTick
            : (nanoseconds + (delay.Ticks * 100) + NanosecondsPerTick - 1) / NanosecondsPerTick;
    }

    /// <summary>The caller has taken everything due: consume the timerfd's expiration and arm it for the next slot.</summary>
    private void AfterDrain()
    {
        // The read takes the expiration (if any), so it counts as drained for the backend whatever the outcome.
        if (_io.TryReadCounter(out _, "read the timerfd of", this))
        {
            // It fired, and an absolute one-shot timerfd is disarmed once it has.
            _armedTick = NotArmed;
        }

        if (_wheel.TryGetNextDeadline(out long next))
        {
            Arm(next);
        }
    }

    private void ArmIfEarlier(long deadline)
    {
        if (deadline < _armedTick)
        {
            Arm(deadline);
        }
    }

    private void Arm(long tick)
    {
        if (tick == _armedTick)
        {
            return;
        }

        int errno = TimerFd.Set(_io.Handle, _origin + (tick * NanosecondsPerTick), 0, absolute: true);
        if (errno != 0)
        {
            throw _io.Failure(errno, $"arm the timerfd of {this}");
        }

        _armedTick = tick;
    }

    private void ThrowIfDisposed(string action) => _io.ThrowIfDisposed(this, action);

}
