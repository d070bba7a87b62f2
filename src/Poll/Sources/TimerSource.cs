using Polling.Os;

namespace Polling;

/// <summary>
/// A timer that is a source: a Linux <c>timerfd</c> on the monotonic clock (immune to wall-clock changes),
/// one-shot or periodic, that becomes readable when it expires. Register it like a socket, and on its
/// event read the number of expirations since the last read with <see cref="TryReadExpirations"/>.
/// </summary>
/// <remarks>
/// <para>Named <c>TimerSource</c> so it does not clash with <see cref="System.Threading.Timer"/> under
/// implicit usings. It starts disarmed; <see cref="SetOnce"/> and <see cref="SetPeriodic(TimeSpan, TimeSpan)"/>
/// arm (or re-arm) it and <see cref="Cancel"/> disarms it, at any time, registered or not. Arming, re-arming
/// and cancelling discard expirations that were not read yet, so no stale event follows a reset.</para>
/// <para><b>Readiness.</b> Readable while expirations are unread. <see cref="Trigger.Edge"/> reports each new
/// expiration; <see cref="Trigger.Level"/> reports every wait until <see cref="TryReadExpirations"/> has read
/// them; <see cref="Trigger.Oneshot"/> once until <c>Reregister</c>. Only <see cref="Interest.Readable"/> may be
/// registered. A periodic timer the loop falls behind on does not queue events: the next read returns how
/// many periods passed (more than 1), so the loop can tell it missed ticks.</para>
/// <para><b>Resolution and cost.</b> Times are rounded to the kernel's nanoseconds; the kernel may fire up to
/// its timer slack (50 µs by default) late, and the loop sees it when it next waits. Arming is one
/// <c>timerfd_settime</c>, reading one <c>read</c>; neither allocates. For thousands of timeouts (one per
/// connection) use one <see cref="TimerWheel"/> instead of thousands of timers: it needs one descriptor and
/// O(1) work per timeout.</para>
/// <para><b>Threads.</b> One thread (the loop's) should read; <see cref="SetOnce"/>, <see cref="SetPeriodic(TimeSpan, TimeSpan)"/>
/// and <see cref="Cancel"/> are single system calls and may be called from any thread.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Tick = (Token)5;
/// using var poll = new Poll();
/// using var timer = new TimerSource();
/// poll.Registry.Register(timer, Tick, Interest.Readable);
/// timer.SetPeriodic(TimeSpan.FromMilliseconds(100));
///
/// var events = new Events(64);
/// while (true)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///         if (ev.Token == Tick &amp;&amp; timer.TryReadExpirations(out ulong ticks))
///             Console.WriteLine($"tick x{ticks}");
/// }
/// </code>
/// </example>
public sealed class TimerSource : ISource, IDisposable
{
    private const long NanosecondsPerTick = 100;

    private IoSource _io;

    /// <summary>Creates a disarmed timer on <c>CLOCK_MONOTONIC</c> (non-blocking, close-on-exec).</summary>
    /// <exception cref="IOException">The kernel refused to create the timerfd (e.g. the descriptor limit).</exception>
    public TimerSource()
    {
        _io = new IoSource(TimerFd.Create());
    }

    /// <summary>The timerfd, for tests that probe the kernel's view of it.</summary>
    internal FdHandle Handle => _io.Handle;

    /// <summary><see langword="true"/> while the timer is armed: a one-shot that has not fired yet, or any periodic timer.</summary>
    public bool IsArmed => Remaining is not null;

    /// <summary>The time until the next expiration, or <see langword="null"/> when disarmed. One <c>timerfd_gettime</c>.</summary>
    public TimeSpan? Remaining
    {
        get
        {
            Get(out long remaining, out _);
            return remaining == 0 ? null : FromNanoseconds(remaining);
        }
    }

    /// <summary>The period of a periodic timer, or <see cref="TimeSpan.Zero"/> for a one-shot or disarmed one.</summary>
    public TimeSpan Period
    {
        get
        {
            Get(out _, out long period);
            return FromNanoseconds(period);
        }
    }

    /// <summary>
    /// Arms the timer to expire once, <paramref name="dueTime"/> from now (replacing any earlier setting and
    /// discarding unread expirations). <see cref="TimeSpan.Zero"/> expires at once.
    /// </summary>
    /// <param name="dueTime">How long from now; zero or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dueTime"/> is negative (use <see cref="Cancel"/> to disarm).</exception>
    public void SetOnce(TimeSpan dueTime)
    {
        long due = ToDueNanoseconds(dueTime, nameof(dueTime));
        Set(due, 0);
    }

    /// <summary>Arms the timer to expire every <paramref name="period"/>, first one period from now.</summary>
    /// <param name="period">The interval; more than zero.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is zero or negative.</exception>
    public void SetPeriodic(TimeSpan period) => SetPeriodic(period, period);

    /// <summary>
    /// Arms the timer to expire <paramref name="dueTime"/> from now and then every <paramref name="period"/>
    /// (replacing any earlier setting and discarding unread expirations).
    /// </summary>
    /// <param name="dueTime">Until the first expiration; zero (at once) or more.</param>
    /// <param name="period">The interval after that; more than zero.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dueTime"/> is negative, or <paramref name="period"/> is zero or negative.</exception>
    public void SetPeriodic(TimeSpan dueTime, TimeSpan period)
    {
        long due = ToDueNanoseconds(dueTime, nameof(dueTime));
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period,
                "A periodic timer needs a period greater than zero; use SetOnce for a single expiration.");
        }

        Set(due, ToNanoseconds(period));
    }

    /// <summary>Disarms the timer and discards unread expirations: no event follows. Harmless when already disarmed.</summary>
    public void Cancel()
    {
        _io.ThrowIfDisposed(this, "cancel");
        Set(0, 0);
    }

    /// <summary>
    /// Reads and resets the number of expirations since the last read (or since the timer was set).
    /// Returns <see langword="false"/>, allocating nothing and throwing nothing, when there are none.
    /// </summary>
    /// <param name="expirations">At least 1 when the result is <see langword="true"/>; more than 1 when a periodic timer expired several times since the last read.</param>
    /// <exception cref="IOException">The kernel failed the read (not for "nothing to read").</exception>
    public bool TryReadExpirations(out ulong expirations)
    {
        // A read takes every expiration at once, so the descriptor is drained whatever the outcome.
        return _io.TryReadCounter(out expirations, "read the expirations of", this);
    }

    /// <summary>Deregisters the timer and closes its timerfd. Idempotent; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => _io.Close();

    /// <summary>Returns <c>TimerSource(fd N)</c>, or <c>TimerSource(disposed)</c>.</summary>
    public override string ToString() => _io.IsDisposed ? "TimerSource(disposed)" : $"TimerSource(fd {_io.Fd})";

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

    /// <summary>Converts a due time; zero becomes 1 ns, because a zero <c>it_value</c> would disarm the timerfd.</summary>
    private static long ToDueNanoseconds(TimeSpan dueTime, string name)
    {
        if (dueTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, dueTime,
                "A timer's due time cannot be negative; pass TimeSpan.Zero to expire at once, or call Cancel to disarm the timer.");
        }

        return Math.Max(1, ToNanoseconds(dueTime));
    }

    /// <summary>Nanoseconds, saturating at <see cref="long.MaxValue"/> (292 years: never, in practice).</summary>
    private static long ToNanoseconds(TimeSpan value) =>
        value.Ticks > long.MaxValue / NanosecondsPerTick ? long.MaxValue : value.Ticks * NanosecondsPerTick;

    private static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / NanosecondsPerTick);

    private static void ValidateInterest(Interest interest)
    {
        if (interest != Interest.Readable)
        {
            throw new ArgumentException(
                $"A TimerSource can only become readable; register it with Interest.Readable, not '{interest}'.", nameof(interest));
        }
    }

    private void Set(long dueNanoseconds, long periodNanoseconds)
    {
        int errno = TimerFd.Set(_io.Live(this, "set"), dueNanoseconds, periodNanoseconds, absolute: false);
        if (errno != 0)
        {
            throw Errno.ToIOException(errno, $"timerfd_settime on {this} (due in {dueNanoseconds} ns, period {periodNanoseconds} ns)");
        }

        // Setting discards unread expirations, so the next expiration is new readiness even if the last one
        // was never read: an edge-emulating backend (poll(2)) must be watching for it again.
        _io.Rearm(Interest.Readable);
    }

    private void Get(out long remaining, out long period)
    {
        int errno = TimerFd.Get(_io.Live(this, "query"), out remaining, out period);
        if (errno != 0)
        {
            throw Errno.ToIOException(errno, $"read the setting of {this}");
        }
    }

}
