namespace Polling.Tests.Core;

/// <summary>The steady-state loop allocates nothing: Wait with events, iteration, Wake.</summary>
public class HotPathTests
{
    [Fact]
    public void Wait_iterate_and_Wake_allocate_zero_bytes_over_10000_iterations()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)1);
        using var other = new Waker(poll.Registry, (Token)2);
        var events = new Events(64);

        ulong sum = RunLoop(poll, waker, other, events, 1_000); // warm up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        sum += RunLoop(poll, waker, other, events, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(sum >= 11_000);
    }

    private static ulong RunLoop(Poll poll, Waker waker, Waker other, Events events, int iterations)
    {
        ulong sum = 0;
        for (int i = 0; i < iterations; i++)
        {
            waker.Wake();
            other.Wake();
            poll.Wait(events, TimeSpan.FromSeconds(1));
            foreach (Event ev in events)
            {
                if (ev.IsReadable)
                {
                    sum += (ulong)ev.Token;
                }
            }

            for (int j = 0; j < events.Count; j++)
            {
                sum += events[j].IsWritable ? 1UL : 0UL;
            }
        }

        return sum;
    }
}
