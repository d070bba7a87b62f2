using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Polling.Tests.Sources;

public sealed class TimerSourceTests : IDisposable
{
    private const Token Timer = (Token)3;
    private readonly ITestOutputHelper _output;
    private readonly Poll _poll = new();
    private readonly Events _events = new(16);

    public TimerSourceTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _poll.Dispose();

    [Fact]
    public void OneShot_fires_not_before_its_due_time_and_well_within_a_second()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        Assert.False(timer.IsArmed);
        var clock = Stopwatch.StartNew();
        timer.SetOnce(TimeSpan.FromMilliseconds(50));
        Assert.True(timer.IsArmed);
        Loop.AssertEvent(_poll, _events, Timer, "a 50 ms timer");
        TimeSpan elapsed = clock.Elapsed;
        _output.WriteLine($"50 ms one-shot fired after {elapsed.TotalMilliseconds:F2} ms");
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(50), $"fired early: {elapsed.TotalMilliseconds} ms");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"fired very late: {elapsed.TotalMilliseconds} ms");
        Assert.True(timer.TryReadExpirations(out ulong count));
        Assert.Equal(1UL, count);
        Assert.False(timer.TryReadExpirations(out _), "read once; nothing more");
        Assert.False(timer.IsArmed, "a one-shot is disarmed after it fired");
        Loop.AssertSilent(_poll, _events, Timer, "a one-shot fires once");
    }

    [Fact]
    public void Periodic_counts_expirations_consistent_with_elapsed_time()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        TimeSpan period = TimeSpan.FromMilliseconds(20);
        var clock = Stopwatch.StartNew();
        timer.SetPeriodic(period);
        Assert.Equal(period, timer.Period);
        ulong total = 0;
        int events = 0;
        while (total < 10)
        {
            Loop.AssertEvent(_poll, _events, Timer, "a periodic timer keeps firing");
            events++;
            if (timer.TryReadExpirations(out ulong count))
            {
                total += count;
            }
        }

        TimeSpan elapsed = clock.Elapsed;
        _output.WriteLine($"20 ms periodic: {total} expirations in {events} events over {elapsed.TotalMilliseconds:F1} ms");
        Assert.True(elapsed >= period * (double)total, $"{total} expirations cannot have happened in {elapsed.TotalMilliseconds} ms");
        Assert.True(total <= (ulong)(elapsed / period) + 1);
        timer.Cancel();
    }

    [Fact]
    public void Periodic_with_a_due_time_fires_first_at_the_due_time()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        var clock = Stopwatch.StartNew();
        timer.SetPeriodic(TimeSpan.Zero, TimeSpan.FromHours(1));
        Loop.AssertEvent(_poll, _events, Timer, "due at once");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.True(timer.TryReadExpirations(out ulong count));
        Assert.Equal(1UL, count);
        Assert.True(timer.IsArmed, "periodic: still armed for the next hour");
        Assert.True(timer.Remaining > TimeSpan.FromMinutes(59));
    }

    [Fact]
    public void ZeroDueTime_fires_at_once()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        timer.SetOnce(TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Timer, "due now");
        Assert.True(timer.TryReadExpirations(out _));
    }

    [Fact]
    public void Cancel_while_registered_prevents_the_event_and_discards_unread_expirations()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable, Trigger.Level);
        timer.SetOnce(TimeSpan.FromMilliseconds(30));
        timer.Cancel();
        Assert.False(timer.IsArmed);
        Assert.Null(timer.Remaining);
        Assert.False(Loop.WaitFor(_poll, _events, Timer, TimeSpan.FromMilliseconds(200)), "cancelled before it was due");

        timer.SetOnce(TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Timer, "expired");
        timer.Cancel();
        Assert.False(Loop.ReportsNow(_poll, _events, Timer), "cancel discards the unread expiration, even for Level");
        Assert.False(timer.TryReadExpirations(out _));
        timer.Cancel();
    }

    [Fact]
    public void Reset_while_registered_replaces_the_due_time()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        timer.SetOnce(TimeSpan.FromHours(1));
        var clock = Stopwatch.StartNew();
        timer.SetOnce(TimeSpan.FromMilliseconds(20));
        Loop.AssertEvent(_poll, _events, Timer, "re-set to 20 ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.True(timer.TryReadExpirations(out _));

        timer.SetOnce(TimeSpan.FromMilliseconds(20));
        timer.SetOnce(TimeSpan.FromHours(1));
        Assert.False(Loop.WaitFor(_poll, _events, Timer, TimeSpan.FromMilliseconds(200)), "pushed back to an hour");
        Assert.True(timer.Remaining > TimeSpan.FromMinutes(59));
    }

    [Fact]
    public void Level_reports_until_read_edge_only_on_expiry()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable, Trigger.Level);
        timer.SetOnce(TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Timer, "expired");
        Assert.True(Loop.ReportsNow(_poll, _events, Timer), "level: unread");
        Assert.True(Loop.ReportsNow(_poll, _events, Timer), "level: still unread");
        Assert.True(timer.TryReadExpirations(out _));
        Assert.False(Loop.ReportsNow(_poll, _events, Timer), "level: read");

        _poll.Registry.Reregister(timer, Timer, Interest.Readable, Trigger.Edge);
        timer.SetOnce(TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Timer, "edge: expired");
        Assert.False(Loop.ReportsNow(_poll, _events, Timer), "edge: reported once even though unread");
        _poll.Registry.Reregister(timer, Timer, Interest.Readable, Trigger.Edge);
        Assert.True(Loop.ReportsNow(_poll, _events, Timer), "reregister re-evaluates: still unread");
        Assert.True(timer.TryReadExpirations(out _));
    }

    [Fact]
    public void Oneshot_reports_once_until_reregistered()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        timer.SetPeriodic(TimeSpan.FromMilliseconds(5));
        Loop.AssertEvent(_poll, _events, Timer, "first period");
        Loop.AssertSilent(_poll, _events, Timer, "oneshot: silent although it keeps expiring");
        Assert.True(timer.TryReadExpirations(out ulong count));
        Assert.True(count >= 2, $"it kept expiring meanwhile: {count}");
        _poll.Registry.Reregister(timer, Timer, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Loop.AssertEvent(_poll, _events, Timer, "rearmed");
    }

    [Fact]
    public void DeregisteredOrDisposed_produces_no_events()
    {
        var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        timer.SetPeriodic(TimeSpan.FromMilliseconds(5));
        _poll.Registry.Deregister(timer);
        Loop.AssertSilent(_poll, _events, Timer, "deregistered");
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        Loop.AssertEvent(_poll, _events, Timer, "registered again");
        timer.Dispose();
        timer.Dispose();
        Loop.AssertSilent(_poll, _events, Timer, "disposed");
        Assert.Equal("TimerSource(disposed)", timer.ToString());
    }

    [Fact]
    public void Misuse_throws_clearly_and_leaves_the_setting_unchanged()
    {
        using var timer = new TimerSource();
        timer.SetOnce(TimeSpan.FromHours(1));

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => timer.SetOnce(TimeSpan.FromMilliseconds(-1)));
        Assert.Equal("dueTime", negative.ParamName);
        Assert.Contains("Cancel", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.SetOnce(Timeout.InfiniteTimeSpan));

        var zeroPeriod = Assert.Throws<ArgumentOutOfRangeException>(() => timer.SetPeriodic(TimeSpan.Zero));
        Assert.Equal("period", zeroPeriod.ParamName);
        Assert.Contains("SetOnce", zeroPeriod.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.SetPeriodic(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.SetPeriodic(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1)));

        Assert.True(timer.Remaining > TimeSpan.FromMinutes(59), "the one-hour setting survived the refused calls");
        Assert.Equal(TimeSpan.Zero, timer.Period);

        var interest = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(timer, Timer, Interest.Readable | Interest.Writable));
        Assert.Contains("Interest.Readable", interest.Message);
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        Assert.Contains("already registered", Assert.Throws<InvalidOperationException>(() => _poll.Registry.Register(timer, Timer, Interest.Readable)).Message);
    }

    [Fact]
    public void HugeTimes_saturate_instead_of_overflowing()
    {
        using var timer = new TimerSource();
        timer.SetOnce(TimeSpan.MaxValue);
        Assert.True(timer.Remaining > TimeSpan.FromDays(365 * 200));
        timer.SetPeriodic(TimeSpan.MaxValue);
        Assert.True(timer.Period > TimeSpan.FromDays(365 * 200));
    }

    [Fact]
    public void UseAfterDispose_throws()
    {
        var timer = new TimerSource();
        timer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => timer.SetOnce(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => timer.SetPeriodic(TimeSpan.FromSeconds(1)));
        Assert.Throws<ObjectDisposedException>(() => timer.Cancel());
        Assert.Throws<ObjectDisposedException>(() => timer.TryReadExpirations(out _));
        Assert.Throws<ObjectDisposedException>(() => timer.IsArmed);
        var register = Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Register(timer, Timer, Interest.Readable));
        Assert.Contains("disposed", register.Message);
    }

    [Fact]
    public void RearmAndReadExpirations_allocate_nothing()
    {
        using var timer = new TimerSource();
        _poll.Registry.Register(timer, Timer, Interest.Readable);
        Cycle(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Cycle(2_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated for 2,000 set/wait/read cycles");

        void Cycle(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                timer.SetOnce(TimeSpan.Zero);
                ulong count;
                while (!timer.TryReadExpirations(out count))
                {
                    _poll.Wait(_events, TimeSpan.FromSeconds(1));
                }

                if (count != 1)
                {
                    throw new InvalidOperationException($"round {i}: {count} expirations");
                }
            }
        }
    }
}
