using System.Collections.Concurrent;
using Polling.Os;

namespace Polling.Tests.Core;

/// <summary>The Registry is used from many threads while one thread waits.</summary>
public class CrossThreadTests
{
    [Theory]
    [InlineData(4, PollBackend.Epoll)]
    [InlineData(8, PollBackend.Epoll)]
    [InlineData(8, PollBackend.Poll)]
    public void Threads_register_and_deregister_while_one_waits_with_no_exception_and_no_lost_wake(int threads, PollBackend backend)
    {
        const int Rounds = 250;
        using var poll = new Poll(backend);
        using var waker = new Waker(poll.Registry, (Token)ulong.MaxValue);
        var seen = new ConcurrentDictionary<ulong, ManualResetEventSlim>();
        var errors = new ConcurrentQueue<Exception>();
        int finished = 0;

        var loop = new Thread(() =>
        {
            var events = new Events(64);
            try
            {
                while (Volatile.Read(ref finished) < threads)
                {
                    poll.Wait(events, TimeSpan.FromSeconds(5));
                    foreach (Event ev in events)
                    {
                        if (ev.Token != waker.Token && seen.TryGetValue((ulong)ev.Token, out var signal))
                        {
                            signal.Set();
                        }
                    }
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        }) { Name = "loop" };
        loop.Start();

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                for (int round = 0; round < Rounds; round++)
                {
                    ulong token = ((ulong)t << 32) | (uint)round;
                    using var signal = new ManualResetEventSlim();
                    using FdHandle fd = TestFds.EventFd();
                    var source = new SourceFd(fd.Fd);
                    seen[token] = signal;
                    poll.Registry.Register(source, (Token)token, Interest.Readable, round % 2 == 0 ? Trigger.Edge : Trigger.Level | Trigger.Oneshot);
                    TestFds.Signal(fd);
                    if (!signal.Wait(TimeSpan.FromSeconds(10)))
                    {
                        throw new Exception($"lost event for token {token:x}");
                    }

                    poll.Registry.Reregister(source, (Token)token, Interest.Writable, Trigger.Level | Trigger.Oneshot);
                    poll.Registry.Deregister(source);
                    seen.TryRemove(token, out _);
                    waker.Wake();
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
            finally
            {
                Interlocked.Increment(ref finished);
                waker.Wake();
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(60))));
        Assert.True(loop.Join(TimeSpan.FromSeconds(10)));
        Assert.Empty(errors);
    }
}
