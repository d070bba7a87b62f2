namespace Polling.Tests.Core;

public class WakerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void Wake_from_another_thread_wakes_a_blocked_wait_with_the_wakers_token()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)77);
        Assert.Equal((Token)77, waker.Token);
        var events = new Events(4);

        var waiter = BlockedWaiter<int>.Start(() => poll.Wait(events, Deadline)).Task;
        new Thread(waker.Wake).Start();

        Assert.True(waiter.Wait(Deadline));
        Assert.Equal(1, waiter.Result);
        Assert.Equal((Token)77, events[0].Token);
        Assert.True(events[0].IsReadable);
    }

    [Fact]
    public void Many_wakes_before_a_wait_coalesce_into_one_event_and_need_no_draining()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)1);
        var events = new Events(4);
        for (int i = 0; i < 1000; i++)
        {
            waker.Wake();
        }

        Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
        Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));

        waker.Wake();
        Assert.Equal(1, poll.Wait(events, TimeSpan.Zero));
    }

    [Fact]
    public void A_disposed_waker_produces_no_events_and_Wake_throws()
    {
        using var poll = new Poll();
        var waker = new Waker(poll.Registry, (Token)1);
        waker.Wake();
        waker.Dispose();
        waker.Dispose();

        Assert.Equal(0, poll.Wait(new Events(4), TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(waker.Wake);
    }

    [Fact]
    public void A_waker_outlives_a_disposed_poll_without_errors()
    {
        var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)1);
        poll.Dispose();
        waker.Wake();
    }

    [Fact]
    public void ToString_names_the_token()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)5);
        Assert.Equal("Waker(token 5)", waker.ToString());
    }
}
