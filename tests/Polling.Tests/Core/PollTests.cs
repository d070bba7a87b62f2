using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Polling.Tests.Core;

public class PollTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void Wait_with_null_events_throws()
    {
        using var poll = new Poll();
        Assert.Equal("events", Assert.Throws<ArgumentNullException>(() => poll.Wait(null!)).ParamName);
    }

    [Fact]
    public void Negative_timeout_throws_and_says_what_to_pass()
    {
        using var poll = new Poll();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => poll.Wait(new Events(1), TimeSpan.FromMilliseconds(-2)));
        Assert.Equal("timeout", ex.ParamName);
        Assert.Contains("TimeSpan.Zero", ex.Message);
    }

    [Fact]
    public void Zero_timeout_returns_at_once_with_no_events()
    {
        using var poll = new Poll();
        var events = new Events(4);
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));
        Assert.True(events.IsEmpty);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_50_ms_timeout_returns_after_at_least_50_ms_and_well_under_a_second()
    {
        using var poll = new Poll();
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, poll.Wait(new Events(4), TimeSpan.FromMilliseconds(50)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(49.5), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_sub_millisecond_timeout_blocks_instead_of_becoming_zero()
    {
        using var poll = new Poll();
        var events = new Events(4);
        // 20 waits of 0.5 ms: rounded up to 1 ms each, so at least 10 ms in all (a busy 0 would take ~0).
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++)
        {
            poll.Wait(events, TimeSpan.FromTicks(5_000));
        }

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(10), $"20 waits of 0.5 ms took only {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Null_and_infinite_timeouts_block_until_a_wake()
    {
        // Beyond int.MaxValue ms (~24.8 days) the wait is honoured in full; TimeSpan.MaxValue means forever.
        foreach (TimeSpan? timeout in new TimeSpan?[] { null, Timeout.InfiniteTimeSpan, TimeSpan.MaxValue, TimeSpan.FromDays(30), TimeSpan.FromMilliseconds(int.MaxValue + 1L) })
        {
            using var poll = new Poll();
            using var waker = new Waker(poll.Registry, (Token)1);
            var events = new Events(4);
            var waiter = BlockedWaiter<int>.Start(() => poll.Wait(events, timeout)).Task;
            waker.Wake();
            Assert.True(waiter.Wait(Deadline));
            Assert.Equal(1, waiter.Result);
            Assert.Equal((Token)1, events[0].Token);
        }
    }

    [Fact]
    public void A_timeout_longer_than_one_kernel_wait_waits_again_until_its_deadline_on_both_backends()
    {
        // The kernel takes int milliseconds; pretend it takes 20 ms at most, so a 30-day wait spans many kernel waits.
        foreach (PollBackend backend in new[] { PollBackend.Epoll, PollBackend.Poll })
        {
            using var poll = new Poll(backend) { MaxChunkMilliseconds = 20 };
            using var waker = new Waker(poll.Registry, (Token)5);
            var events = new Events(4);
            var waiter = BlockedWaiter<int>.Start(() => poll.Wait(events, TimeSpan.FromDays(30))).Task;
            Assert.False(waiter.Wait(200), $"{backend}: a 30-day wait returned after ~10 kernel waits of 20 ms");
            waker.Wake();
            Assert.True(waiter.Wait(Deadline));
            Assert.Equal(1, waiter.Result);

            // And a long timeout still ends at its deadline: a 70 ms wait in 20 ms kernel waits.
            // (A fresh Poll: on poll(2) a Wake racing the wait may be reported once more — a spurious event.)
            using var idle = new Poll(backend) { MaxChunkMilliseconds = 20 };
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, idle.Wait(events, TimeSpan.FromMilliseconds(70)));
            Assert.True(clock.ElapsedMilliseconds >= 69, $"{backend}: {clock.ElapsedMilliseconds} ms");
        }
    }

    [Fact]
    public void A_second_concurrent_Wait_throws_InvalidOperationException()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)1);
        using var entered = new ManualResetEventSlim();
        var waiter = Dedicated.Run(() =>
        {
            entered.Set();
            return poll.Wait(new Events(4));
        });
        entered.Wait(Deadline);

        // The first waiter may not have reached Wait yet: retry until the second call is refused.
        var clock = Stopwatch.StartNew();
        InvalidOperationException? refused = null;
        while (refused is null && clock.Elapsed < Deadline)
        {
            try
            {
                poll.Wait(new Events(1), TimeSpan.FromMilliseconds(1));
            }
            catch (InvalidOperationException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains("one thread at a time", refused!.Message, StringComparison.OrdinalIgnoreCase);
        waker.Wake();
        Assert.True(waiter.Wait(Deadline));
    }

    [Fact]
    public void Dispose_is_idempotent_and_Wait_afterwards_throws_ObjectDisposedException()
    {
        var poll = new Poll();
        poll.Dispose();
        poll.Dispose();
        var ex = Assert.Throws<ObjectDisposedException>(() => poll.Wait(new Events(1), TimeSpan.Zero));
        Assert.Contains("disposed", ex.Message);
    }

    [Fact]
    public void Dispose_from_another_thread_ends_a_blocked_Wait_with_ObjectDisposedException()
    {
        var poll = new Poll();
        var events = new Events(4);
        var waiter = BlockedWaiter<int>.Start(() => poll.Wait(events)).Task;

        poll.Dispose();

        var ex = Assert.Throws<AggregateException>(() => waiter.Wait(Deadline));
        Assert.IsType<ObjectDisposedException>(ex.InnerException);
        Assert.True(events.IsEmpty);
    }

    [Fact]
    public void Dispose_racing_with_Wait_never_hangs()
    {
        for (int i = 0; i < 200; i++)
        {
            var poll = new Poll();
            var waiter = Dedicated.Run(() =>
            {
                try
                {
                    poll.Wait(new Events(1));
                }
                catch (ObjectDisposedException)
                {
                }
            });
            poll.Dispose();
            Assert.True(waiter.Wait(Deadline), $"iteration {i}: Wait did not return after Dispose");
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_wait_interrupted_by_a_signal_returns_zero_events_without_throwing(PollBackend backend)
    {
        // A handled signal delivered to the waiting thread makes epoll_wait / poll fail with EINTR. (On poll(2)
        // this once threw "poll failed: Success (errno 0)": Tmds.LibC declares poll without SetLastError.)
        // SIGCONT is harmless to a running process; registering a handler guarantees one is installed.
        const int SIGCONT = 18;
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGCONT, context => context.Cancel = true);
        using var poll = new Poll(backend);
        int threadId = 0;
        var clock = Stopwatch.StartNew();
        var waiter = Task.Factory.StartNew(() =>
        {
            Volatile.Write(ref threadId, TestFds.CurrentThreadId());
            return poll.Wait(new Events(4), TimeSpan.FromSeconds(30));
        }, TaskCreationOptions.LongRunning);

        while (!waiter.IsCompleted && clock.Elapsed < Deadline)
        {
            int tid = Volatile.Read(ref threadId);
            if (tid != 0)
            {
                TestFds.SignalThread(tid, SIGCONT);
            }

            waiter.Wait(10);
        }

        Assert.True(waiter.IsCompleted, "the signal did not interrupt the wait");
        Assert.Equal(0, waiter.Result);
    }
}
