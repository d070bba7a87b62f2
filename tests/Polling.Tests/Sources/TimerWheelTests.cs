using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Polling.Tests.Sources;

public sealed class TimerWheelTests : IDisposable
{
    private const Token Wheel = (Token)11;
    private const long MaxTicks = 1L << 36;
    private readonly ITestOutputHelper _output;
    private readonly Poll _poll = new();
    private readonly Events _events = new(16);

    public TimerWheelTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _poll.Dispose();

    private static List<Token> TakeAll(TimerWheel wheel, Span<Token> buffer, long? now = null)
    {
        var all = new List<Token>();
        int n;
        do
        {
            n = now is { } tick ? wheel.TakeExpiredAt(buffer, tick) : wheel.TakeExpired(buffer);
            for (int i = 0; i < n; i++)
            {
                all.Add(buffer[i]);
            }
        }
        while (n == buffer.Length);
        return all;
    }

    [Theory]
    [InlineData(1, 0L)]
    [InlineData(2, 0L)]
    [InlineData(3, 0L)]
    [InlineData(4, 0L)]
    [InlineData(5, 0L)]
    [InlineData(6, (1L << 30) - 3_000)]
    [InlineData(7, (1L << 36) - 3_000)]
    [InlineData(8, (5L << 36) + (63L << 30) - 100)]
    public void SimulatedTime_HandsBackExactlyTheDueTimeouts_AgainstAModel(int seed, long start)
    {
        // Time is driven by hand through the internal tick API, so the wheel's bookkeeping (levels,
        // cascading, wrap-around, cancel and reschedule anywhere in the hierarchy) is checked exactly.
        var random = new Random(seed);
        using var wheel = new TimerWheel(8);
        var model = new Dictionary<Token, (TimerKey Key, long Deadline)>();
        var buffer = new Token[random.Next(1, 40)];
        long now = start;
        Assert.Empty(TakeAll(wheel, buffer, now));
        ulong nextToken = 1;
        for (int step = 0; step < 30_000; step++)
        {
            int action = random.Next(100);
            if (action < 45)
            {
                long deadline = now + Delay(random);
                var token = (Token)nextToken++;
                model[token] = (wheel.ScheduleAt(token, deadline), deadline);
            }
            else if (action < 55 && model.Count > 0)
            {
                Token token = Pick(random, model);
                long deadline = now + Delay(random);
                Assert.True(wheel.RescheduleAt(model[token].Key, deadline));
                model[token] = (model[token].Key, deadline);
            }
            else if (action < 62 && model.Count > 0)
            {
                Token token = Pick(random, model);
                Assert.True(wheel.Cancel(model[token].Key));
                Assert.False(wheel.Cancel(model[token].Key), "a cancelled key is stale");
                model.Remove(token);
            }
            else
            {
                now += random.Next(4) switch
                {
                    0 => random.Next(3),
                    1 => random.Next(100),
                    2 => random.Next(5_000),
                    _ => random.NextInt64(1, 1L << 25),
                };
                List<Token> expired = TakeAll(wheel, buffer, now);
                var due = model.Where(e => e.Value.Deadline <= now).Select(e => e.Key).ToHashSet();
                Assert.True(due.SetEquals(expired), $"seed {seed}, step {step}, now {now}: expected {due.Count} due, got {expired.Count} ({expired.Distinct().Count()} distinct)");
                foreach (Token token in expired)
                {
                    Assert.False(wheel.Contains(model[token].Key), "an expired key is stale");
                    Assert.False(wheel.RescheduleAt(model[token].Key, now + 1));
                    model.Remove(token);
                }
            }

            Assert.Equal(model.Count, wheel.Count);
        }

        // Finally everything comes due.
        now += MaxTicks;
        List<Token> rest = TakeAll(wheel, buffer, now);
        Assert.Equal(model.Count, rest.Count);
        Assert.Equal(0, wheel.Count);

        static long Delay(Random random) => random.Next(6) switch
        {
            0 => 0,
            1 => random.Next(64),
            2 => random.Next(4_096),
            3 => random.Next(1 << 20),
            4 => random.NextInt64(1L << 30),
            _ => random.NextInt64(MaxTicks),
        };

        static Token Pick(Random random, Dictionary<Token, (TimerKey, long)> model) => model.Keys.ElementAt(random.Next(model.Count));
    }

    [Fact]
    public void SimulatedTime_future_timeouts_come_back_in_deadline_order()
    {
        using var wheel = new TimerWheel();
        var random = new Random(7);
        long[] deadlines = Enumerable.Range(1, 2_000).Select(i => (long)i * 37).OrderBy(_ => random.Next()).ToArray();
        foreach (long deadline in deadlines)
        {
            wheel.ScheduleAt((Token)(ulong)deadline, deadline);
        }

        List<Token> expired = TakeAll(wheel, new Token[64], 1_000_000);
        Assert.Equal(deadlines.Order().Select(d => (Token)(ulong)d), expired);
    }

    [Fact]
    public void SimulatedTime_nothing_expires_early_at_every_level_boundary()
    {
        using var wheel = new TimerWheel();
        var buffer = new Token[8];
        foreach (long distance in new long[] { 1, 63, 64, 65, 4_095, 4_096, 4_097, 262_144, 16_777_216, 1L << 30, MaxTicks - 1 })
        {
            long start = wheel.Elapsed;
            long deadline = start + distance;
            TimerKey key = wheel.ScheduleAt((Token)(ulong)distance, deadline);
            Assert.Empty(TakeAll(wheel, buffer, deadline - 1));
            Assert.True(wheel.Contains(key));
            Assert.Equal([(Token)(ulong)distance], TakeAll(wheel, buffer, deadline));
        }
    }

    [Fact]
    public void RealTime_a_timeout_fires_not_before_its_delay_and_well_within_a_second()
    {
        using var wheel = new TimerWheel();
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        var clock = Stopwatch.StartNew();
        wheel.Schedule((Token)42, TimeSpan.FromMilliseconds(50));
        Loop.AssertEvent(_poll, _events, Wheel, "a 50 ms timeout");
        var buffer = new Token[4];
        List<Token> expired = TakeAll(wheel, buffer);
        TimeSpan elapsed = clock.Elapsed;
        _output.WriteLine($"50 ms timeout handed back after {elapsed.TotalMilliseconds:F2} ms");
        Assert.Equal([(Token)42], expired);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(50), $"early: {elapsed.TotalMilliseconds} ms");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"late: {elapsed.TotalMilliseconds} ms");
        Loop.AssertSilent(_poll, _events, Wheel, "nothing else scheduled");
    }

    [Fact]
    public void RealTime_many_timeouts_all_come_back_none_early()
    {
        const int Count = 1_000;
        using var wheel = new TimerWheel(16);
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        var random = new Random(3);
        var clock = Stopwatch.StartNew();
        var due = new TimeSpan[Count];
        for (int i = 0; i < Count; i++)
        {
            due[i] = clock.Elapsed + TimeSpan.FromMilliseconds(random.Next(0, 150));
            wheel.Schedule((Token)(ulong)i, due[i] - clock.Elapsed > TimeSpan.Zero ? due[i] - clock.Elapsed : TimeSpan.Zero);
        }

        var seen = new bool[Count];
        int received = 0;
        int wakeups = 0;
        var buffer = new Token[32];
        while (received < Count)
        {
            Assert.True(Loop.WaitFor(_poll, _events, Wheel), $"stalled after {received} of {Count}");
            wakeups++;
            List<Token> expired = TakeAll(wheel, buffer);
            TimeSpan now = clock.Elapsed;   // after the wheel read its clock: a token it hands back expired by then
            foreach (Token token in expired)
            {
                int i = (int)(ulong)token;
                Assert.False(seen[i], $"token {i} handed back twice");
                seen[i] = true;
                received++;
                Assert.True(now >= due[i], $"token {i} expired {(due[i] - now).TotalMilliseconds} ms early");
            }
        }

        _output.WriteLine($"{Count} timeouts over 150 ms: {wakeups} wake-ups");
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Cancel_reschedule_and_stale_keys()
    {
        using var wheel = new TimerWheel();
        var buffer = new Token[8];
        TimerKey a = wheel.Schedule((Token)1, TimeSpan.Zero);
        TimerKey b = wheel.Schedule((Token)2, TimeSpan.Zero);
        TimerKey c = wheel.Schedule((Token)3, TimeSpan.FromHours(1));
        Assert.Equal(3, wheel.Count);
        Assert.True(wheel.Cancel(a));
        Assert.False(wheel.Contains(a));
        Assert.True(wheel.Reschedule(b, TimeSpan.FromHours(2)));
        Assert.True(wheel.Reschedule(c, TimeSpan.Zero));
        Assert.Equal([(Token)3], TakeAll(wheel, buffer));
        Assert.False(wheel.Contains(c), "taken: stale");
        Assert.False(wheel.Reschedule(c, TimeSpan.Zero));
        Assert.False(wheel.Cancel(c));
        Assert.False(wheel.Cancel(default));
        Assert.False(wheel.Contains(default));
        Assert.Equal("TimerKey(none)", default(TimerKey).ToString());
        Assert.True(wheel.Contains(b));
        Assert.Equal(1, wheel.Count);

        // A freed slot is reused, but the old key stays stale.
        TimerKey d = wheel.Schedule((Token)4, TimeSpan.Zero);
        Assert.NotEqual(a, d);
        Assert.False(wheel.Cancel(a));
        Assert.Equal([(Token)4], TakeAll(wheel, buffer));
    }

    [Fact]
    public void SmallBuffer_hands_back_the_rest_on_the_next_calls()
    {
        using var wheel = new TimerWheel();
        for (int i = 0; i < 10; i++)
        {
            wheel.Schedule((Token)(ulong)i, TimeSpan.Zero);
        }

        Span<Token> buffer = stackalloc Token[3];
        Assert.Equal(3, wheel.TakeExpired(buffer));
        Assert.Equal(3, wheel.TakeExpired(buffer));
        Assert.Equal(3, wheel.TakeExpired(buffer));
        Assert.Equal(1, wheel.TakeExpired(buffer));
        Assert.Equal(0, wheel.TakeExpired(buffer));
    }

    [Fact]
    public void Level_reports_while_timeouts_are_due_edge_once()
    {
        using var wheel = new TimerWheel();
        _poll.Registry.Register(wheel, Wheel, Interest.Readable, Trigger.Level);
        wheel.Schedule((Token)1, TimeSpan.Zero);
        wheel.Schedule((Token)2, TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Wheel, "due");
        Assert.True(Loop.ReportsNow(_poll, _events, Wheel), "level: not taken yet");
        Span<Token> one = stackalloc Token[1];
        Assert.Equal(1, wheel.TakeExpired(one));
        Assert.True(Loop.ReportsNow(_poll, _events, Wheel), "level: one still due");
        Assert.Equal(1, wheel.TakeExpired(one));
        Assert.Equal(0, wheel.TakeExpired(one));
        Assert.False(Loop.ReportsNow(_poll, _events, Wheel), "level: all taken");

        _poll.Registry.Reregister(wheel, Wheel, Interest.Readable, Trigger.Edge);
        wheel.Schedule((Token)3, TimeSpan.Zero);
        Loop.AssertEvent(_poll, _events, Wheel, "edge: due");
        Assert.False(Loop.ReportsNow(_poll, _events, Wheel), "edge: reported once");
        _poll.Registry.Reregister(wheel, Wheel, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Assert.True(Loop.ReportsNow(_poll, _events, Wheel), "reregister re-evaluates");
        Assert.Equal(1, wheel.TakeExpired(one));
    }

    [Fact]
    public void EarlierSchedule_rearms_the_timer()
    {
        using var wheel = new TimerWheel();
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        wheel.Schedule((Token)1, TimeSpan.FromHours(1));
        var clock = Stopwatch.StartNew();
        wheel.Schedule((Token)2, TimeSpan.FromMilliseconds(20));
        Loop.AssertEvent(_poll, _events, Wheel, "the earlier timeout");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.Equal([(Token)2], TakeAll(wheel, new Token[4]));
        Assert.Equal(1, wheel.Count);
    }

    [Fact]
    public void DeregisteredOrDisposed_produces_no_events()
    {
        var wheel = new TimerWheel();
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        _poll.Registry.Deregister(wheel);
        wheel.Schedule((Token)1, TimeSpan.Zero);
        Loop.AssertSilent(_poll, _events, Wheel, "deregistered");
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        Loop.AssertEvent(_poll, _events, Wheel, "registered again while a timeout is due");
        wheel.Schedule((Token)2, TimeSpan.FromMilliseconds(10));
        wheel.Dispose();
        wheel.Dispose();
        Loop.AssertSilent(_poll, _events, Wheel, "disposed");
    }

    [Fact]
    public void Misuse_throws_clearly_and_leaves_the_wheel_unchanged()
    {
        Assert.Equal("capacity", Assert.Throws<ArgumentOutOfRangeException>(() => new TimerWheel(0)).ParamName);
        using var wheel = new TimerWheel();
        TimerKey key = wheel.Schedule((Token)1, TimeSpan.FromHours(1));

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => wheel.Schedule((Token)2, TimeSpan.FromMilliseconds(-1)));
        Assert.Equal("delay", negative.ParamName);
        Assert.Contains("MaxDelay", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => wheel.Schedule((Token)2, TimerWheel.MaxDelay + TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => wheel.Reschedule(key, TimeSpan.FromDays(-1)));
        Assert.Equal(1, wheel.Count);
        Assert.True(wheel.Contains(key));

        var empty = Assert.Throws<ArgumentException>(() => wheel.TakeExpired(Span<Token>.Empty));
        Assert.Equal("expired", empty.ParamName);

        var interest = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(wheel, Wheel, Interest.Writable));
        Assert.Contains("Interest.Readable", interest.Message);
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        Assert.Throws<InvalidOperationException>(() => _poll.Registry.Register(wheel, Wheel, Interest.Readable));

        TimerKey max = wheel.Schedule((Token)3, TimerWheel.MaxDelay);
        Assert.True(wheel.Contains(max));
    }

    [Fact]
    public void UseAfterDispose_throws()
    {
        var wheel = new TimerWheel();
        TimerKey key = wheel.Schedule((Token)1, TimeSpan.FromHours(1));
        wheel.Dispose();
        Assert.Throws<ObjectDisposedException>(() => wheel.Schedule((Token)1, TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => wheel.Reschedule(key, TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => wheel.Cancel(key));
        Assert.Throws<ObjectDisposedException>(() => wheel.TakeExpired(new Token[1]));
        Assert.Contains("disposed", Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Register(wheel, Wheel, Interest.Readable)).Message);
    }

    [Fact]
    public void SteadyState_schedule_reschedule_cancel_expire_allocates_nothing()
    {
        using var wheel = new TimerWheel(256);
        _poll.Registry.Register(wheel, Wheel, Interest.Readable);
        var keys = new TimerKey[128];
        var buffer = new Token[32];
        long now = 0;
        Cycle(50);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Cycle(1_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated for 1,000 rounds of 128 schedules, reschedules, cancels and expiries");

        // The same through the public, real-time API (a second wheel: the first one's simulated time ran far ahead).
        using var realTime = new TimerWheel(256);
        _poll.Registry.Register(realTime, (Token)12, Interest.Readable);
        RealTimeCycle(10);
        before = GC.GetAllocatedBytesForCurrentThread();
        RealTimeCycle(200);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated by the real-time API");

        void Cycle(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < keys.Length; i++)
                {
                    keys[i] = wheel.ScheduleAt((Token)(ulong)i, now + 1 + (i * 997 % 300_000));
                }

                for (int i = 0; i < keys.Length; i += 2)
                {
                    wheel.RescheduleAt(keys[i], now + 1 + (i * 31));
                }

                for (int i = 1; i < keys.Length; i += 4)
                {
                    wheel.Cancel(keys[i]);
                }

                now += 300_001;
                while (wheel.TakeExpiredAt(buffer, now) == buffer.Length)
                {
                }

                if (wheel.Count != 0)
                {
                    throw new InvalidOperationException($"round {round}: {wheel.Count} left");
                }
            }
        }

        void RealTimeCycle(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < keys.Length; i++)
                {
                    keys[i] = realTime.Schedule((Token)(ulong)i, TimeSpan.FromHours(1));
                }

                for (int i = 0; i < keys.Length; i += 2)
                {
                    realTime.Reschedule(keys[i], TimeSpan.Zero);
                }

                for (int i = 1; i < keys.Length; i += 2)
                {
                    realTime.Cancel(keys[i]);
                }

                while (realTime.TakeExpired(buffer) == buffer.Length)
                {
                }
            }
        }
    }
}
