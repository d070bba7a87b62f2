using Polling.Os;
using Xunit;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Semantics;

/// <summary>
/// What the sequential properties cannot show: threads (a registry change or a wake while another
/// thread is blocked in Wait, Dispose from another thread), closed descriptors, the documented
/// SourceFd-under-Edge behaviour of poll(2), fairness when the Events batch is full, growth of the
/// poll set, misuse parity between the backends, and zero allocation per wait.
/// </summary>
public class BackendTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public void The_default_Poll_uses_epoll_and_the_backend_can_be_chosen()
    {
        using var byDefault = new Poll();
        using var epoll = new Poll(PollBackend.Epoll);
        using var poll = new Poll(PollBackend.Poll);
        Assert.Equal(PollBackend.Epoll, byDefault.Backend);
        Assert.Equal(PollBackend.Epoll, epoll.Backend);
        Assert.Equal(PollBackend.Poll, poll.Backend);
    }

    [Fact]
    public void An_undefined_backend_is_rejected_with_a_message_that_names_the_valid_ones()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Poll((PollBackend)7));
        Assert.Equal("backend", error.ParamName);
        Assert.Contains("PollBackend.Epoll", error.Message);
        Assert.Contains("PollBackend.Poll", error.Message);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_registration_made_while_another_thread_is_blocked_in_Wait_takes_effect(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var source = new EventFdSource(rawFd: false);
        source.PeerAdd(1);
        var events = new Events(8);
        var waiter = new BlockedWaiter(poll, events, Deadline);
        poll.Registry.Register(source, (Token)77, Interest.Readable);
        Assert.True(waiter.Join(), "Wait did not return after a ready source was registered");
        Assert.Equal([77UL], waiter.Tokens);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_reregistration_made_while_another_thread_is_blocked_in_Wait_takes_effect(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var source = new EventFdSource(rawFd: false);
        poll.Registry.Register(source, (Token)1, Interest.Readable);
        source.PeerAdd(1);
        var events = new Events(8);
        Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));   // the edge fired; now silent
        var waiter = new BlockedWaiter(poll, events, Deadline);
        poll.Registry.Reregister(source, (Token)2, Interest.Readable);   // re-evaluates: still readable
        Assert.True(waiter.Join(), "Wait did not return after a ready source was reregistered");
        Assert.Equal([2UL], waiter.Tokens);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_source_deregistered_while_another_thread_is_blocked_in_Wait_is_not_reported(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var quiet = new EventFdSource(rawFd: false);
        using var later = new EventFdSource(rawFd: false);
        poll.Registry.Register(quiet, (Token)1, Interest.Readable, Trigger.Level);
        poll.Registry.Register(later, (Token)2, Interest.Readable, Trigger.Level);
        var events = new Events(8);
        var waiter = new BlockedWaiter(poll, events, Deadline);
        poll.Registry.Deregister(quiet);
        quiet.PeerAdd(1);    // readiness of a deregistered source
        later.PeerAdd(1);
        Assert.True(waiter.Join());
        Assert.Equal([2UL], waiter.Tokens);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Wake_from_another_thread_ends_a_blocked_Wait(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var waker = new Waker(poll.Registry, (Token)9);
        var events = new Events(8);
        for (int round = 0; round < 3; round++)
        {
            var waiter = new BlockedWaiter(poll, events, Deadline);
            waker.Wake();
            Assert.True(waiter.Join(), $"round {round}: the wake did not end the wait");
            Assert.Equal([9UL], waiter.Tokens);
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Dispose_from_another_thread_ends_a_blocked_Wait_with_ObjectDisposedException(PollBackend backend)
    {
        var poll = new Poll(backend);
        var events = new Events(8);
        var waiter = new BlockedWaiter(poll, events, timeout: null);
        poll.Dispose();
        Assert.True(waiter.Join(), "Dispose did not end the blocked wait");
        Assert.IsType<ObjectDisposedException>(waiter.Error);
        Assert.True(events.IsEmpty);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_waker_woken_after_its_Poll_is_disposed_does_not_throw(PollBackend backend)
    {
        var poll = new Poll(backend);
        using var waker = new Waker(poll.Registry, (Token)1);
        poll.Dispose();
        waker.Wake();
    }

    [Fact]
    public void A_raw_descriptor_closed_while_registered_is_dropped_silently_by_poll_and_its_number_can_be_registered_again()
    {
        using var poll = new Poll(PollBackend.Poll);
        var events = new Events(8);
        int fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
        Assert.True(fd >= 0);
        poll.Registry.Register(new SourceFd(fd), (Token)5, Interest.Readable, Trigger.Level);
        close(fd);   // misuse: closed without deregistering (SourceFd's docs say deregister first)

        Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));        // POLLNVAL: nothing reported
        Assert.Equal(0, poll.Wait(events, TimeSpan.FromMilliseconds(20)));  // and no busy loop: it timed out

        int reused = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
        try
        {
            Assert.Equal(fd, reused);   // the kernel hands out the lowest free number
            poll.Registry.Register(new SourceFd(reused), (Token)6, Interest.Readable, Trigger.Level);
            Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
            Assert.Equal((Token)6, events[0].Token);
            poll.Registry.Deregister(new SourceFd(reused));
        }
        finally
        {
            close(reused);
        }
    }

    [Fact]
    public void On_poll_a_SourceFd_registered_with_Edge_is_reported_level_triggered_and_on_epoll_once()
    {
        foreach (PollBackend backend in new[] { PollBackend.Epoll, PollBackend.Poll })
        {
            using var poll = new Poll(backend);
            using var source = new EventFdSource(rawFd: true);
            source.PeerAdd(1);
            poll.Registry.Register(source, (Token)3, Interest.Readable, Trigger.Edge);
            var events = new Events(8);
            int reports = 0;
            for (int i = 0; i < 3; i++)
            {
                reports += poll.Wait(events, TimeSpan.Zero);
            }

            Assert.Equal(backend == PollBackend.Poll ? 3 : 1, reports);
            Assert.True(source.TryRead(out _));
            Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));   // drained: nothing on either backend
            poll.Registry.Deregister(source);
        }
    }

    [Fact]
    public void On_poll_a_SourceFd_registered_with_Edge_and_Oneshot_reports_once()
    {
        using var poll = new Poll(PollBackend.Poll);
        using var source = new EventFdSource(rawFd: true);
        source.PeerAdd(1);
        poll.Registry.Register(source, (Token)3, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        var events = new Events(8);
        Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
        Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));
        poll.Registry.Reregister(source, (Token)3, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
        poll.Registry.Deregister(source);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_full_Events_batch_does_not_starve_any_ready_source(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var sources = Enumerable.Range(0, 7).Select(_ => new EventFdSource(rawFd: false)).ToList();
        try
        {
            for (int i = 0; i < sources.Count; i++)
            {
                sources[i].PeerAdd(1);
                poll.Registry.Register(sources[i], (Token)(ulong)i, Interest.Readable, Trigger.Level);
            }

            var events = new Events(2);
            var seen = new HashSet<ulong>();
            for (int wait = 0; wait < 4; wait++)   // 4 waits x 2 events >= 7 sources, if the backend rotates
            {
                Assert.Equal(2, poll.Wait(events, TimeSpan.Zero));
                foreach (Event ev in events)
                {
                    seen.Add((ulong)ev.Token);
                }
            }

            Assert.Equal(sources.Count, seen.Count);
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Many_registrations_removed_in_any_order_keep_every_token_with_its_source(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var random = new Random(12345);
        var sources = Enumerable.Range(0, 300).Select(_ => new EventFdSource(rawFd: false)).ToList();
        try
        {
            for (int i = 0; i < sources.Count; i++)
            {
                poll.Registry.Register(sources[i], (Token)(ulong.MaxValue - (ulong)i), Interest.Readable, Trigger.Level);
            }

            var removed = new HashSet<int>();
            foreach (int i in Enumerable.Range(0, sources.Count).OrderBy(_ => random.Next()).Take(200))
            {
                poll.Registry.Deregister(sources[i]);
                removed.Add(i);
            }

            foreach (int i in Enumerable.Range(0, sources.Count).Where(i => i % 3 == 0))
            {
                sources[i].PeerAdd(1);
            }

            var events = new Events(512);
            poll.Wait(events, TimeSpan.Zero);
            var expected = Enumerable.Range(0, sources.Count).Where(i => i % 3 == 0 && !removed.Contains(i)).Select(i => ulong.MaxValue - (ulong)i).Order();
            Assert.Equal(expected, events.Select(ev => (ulong)ev.Token).Order());
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Misuse_gets_the_same_exceptions_on_both_backends_and_changes_nothing(PollBackend backend)
    {
        using var poll = new Poll(backend);
        int fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
        try
        {
            var raw = new SourceFd(fd);
            var notRegistered = Assert.Throws<InvalidOperationException>(() => poll.Registry.Reregister(raw, (Token)1, Interest.Readable));
            Assert.Contains("not registered", notRegistered.Message);
            Assert.Throws<InvalidOperationException>(() => poll.Registry.Deregister(raw));

            poll.Registry.Register(raw, (Token)1, Interest.Readable, Trigger.Level);
            var twice = Assert.Throws<InvalidOperationException>(() => poll.Registry.Register(raw, (Token)2, Interest.Readable, Trigger.Level));
            Assert.Contains("already registered", twice.Message);

            var events = new Events(4);
            Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
            Assert.Equal((Token)1, events[0].Token);   // the failed second Register changed nothing
            poll.Registry.Deregister(raw);
            Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));
        }
        finally
        {
            close(fd);
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Waiting_allocates_nothing_in_steady_state(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var waker = new Waker(poll.Registry, (Token)1);
        using var edge = new EventFdSource(rawFd: false);
        using var level = new EventFdSource(rawFd: false);
        poll.Registry.Register(edge, (Token)2, Interest.Readable);
        poll.Registry.Register(level, (Token)3, Interest.Readable | Interest.Writable, Trigger.Level);
        var idle = Enumerable.Range(0, 50).Select(_ => new EventFdSource(rawFd: false)).ToList();
        try
        {
            for (int i = 0; i < idle.Count; i++)
            {
                poll.Registry.Register(idle[i], (Token)(100UL + (ulong)i), Interest.Readable);
            }

            var events = new Events(64);
            void Cycle()
            {
                waker.Wake();
                edge.PeerAdd(1);
                poll.Wait(events, TimeSpan.Zero);
                foreach (Event ev in events)
                {
                    if (ev.Token == (Token)2)
                    {
                        while (edge.TryRead(out _))
                        {
                        }
                    }
                }

                poll.Wait(events, TimeSpan.Zero);
            }

            for (int i = 0; i < 200; i++)
            {
                Cycle();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                Cycle();
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    /// <summary>A thread blocked in <see cref="Poll.Wait"/>; started and given a moment to block before the constructor returns.</summary>
    private sealed class BlockedWaiter
    {
        private readonly Thread _thread;

        public BlockedWaiter(Poll poll, Events events, TimeSpan? timeout)
        {
            using var started = new ManualResetEventSlim();
            _thread = new Thread(() =>
            {
                started.Set();
                try
                {
                    poll.Wait(events, timeout);
                    Tokens = [.. events.Select(ev => (ulong)ev.Token)];
                }
                catch (Exception error)
                {
                    Error = error;
                }
            })
            {
                IsBackground = true,
            };
            _thread.Start();
            started.Wait();
            Thread.Sleep(50);   // let it block; correctness does not depend on it, only what is exercised
        }

        public List<ulong> Tokens { get; private set; } = [];

        public Exception? Error { get; private set; }

        public bool Join() => _thread.Join(Deadline);
    }
}
