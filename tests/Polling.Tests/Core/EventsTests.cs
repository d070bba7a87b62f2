using Polling.Os;

namespace Polling.Tests.Core;

public class EventsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Capacity_below_one_is_rejected_with_a_message_that_says_what_to_pass(int capacity)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Events(capacity));
        Assert.Equal("capacity", ex.ParamName);
        Assert.Contains("capacity of 1 or more", ex.Message);
    }

    [Fact]
    public void A_new_batch_is_empty_with_the_requested_capacity()
    {
        var events = new Events(8);
        Assert.Equal(8, events.Capacity);
        Assert.Equal(0, events.Count);
        Assert.True(events.IsEmpty);
        Assert.Empty(events);
    }

    [Fact]
    public void Indexer_outside_count_throws_and_names_the_valid_range()
    {
        var events = new Events(4);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => events[0]);
        Assert.Contains("[0, Count)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => events[-1]);
    }

    [Fact]
    public void Wait_fills_the_batch_and_the_indexer_enumerator_and_interface_agree()
    {
        using var poll = new Poll();
        using var a = new Waker(poll.Registry, (Token)1);
        using var b = new Waker(poll.Registry, (Token)2);
        a.Wake();
        b.Wake();
        var events = new Events(8);

        Assert.Equal(2, poll.Wait(events, TimeSpan.FromSeconds(5)));

        Assert.Equal(2, events.Count);
        Assert.False(events.IsEmpty);
        var byIndex = new[] { events[0].Token, events[1].Token };
        var byStruct = new List<Token>();
        foreach (Event ev in events)
        {
            byStruct.Add(ev.Token);
        }

        var byInterface = ((IEnumerable<Event>)events).Select(e => e.Token).ToList();
        Assert.Equal(new[] { (Token)1, (Token)2 }, byIndex.OrderBy(t => t));
        Assert.Equal(byIndex, byStruct);
        Assert.Equal(byIndex, byInterface);
        Assert.Throws<ArgumentOutOfRangeException>(() => events[2]);
    }

    [Fact]
    public void Clear_empties_the_batch()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)1);
        waker.Wake();
        var events = new Events(4);
        poll.Wait(events, TimeSpan.FromSeconds(5));
        Assert.Equal(1, events.Count);

        events.Clear();

        Assert.Equal(0, events.Count);
        Assert.True(events.IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => events[0]);
    }

    [Fact]
    public void A_full_batch_leaves_the_rest_pending_for_the_next_wait()
    {
        using var poll = new Poll();
        var wakers = Enumerable.Range(0, 5).Select(i => new Waker(poll.Registry, (Token)i)).ToList();
        try
        {
            wakers.ForEach(w => w.Wake());
            var events = new Events(2);
            var seen = new HashSet<Token>();
            for (int i = 0; i < 3; i++)
            {
                poll.Wait(events, TimeSpan.FromSeconds(5));
                Assert.InRange(events.Count, 1, 2);
                foreach (Event ev in events)
                {
                    Assert.True(seen.Add(ev.Token), $"{ev.Token} reported twice");
                }
            }

            Assert.Equal(5, seen.Count);
        }
        finally
        {
            wakers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public void The_enumerator_is_a_struct_and_can_be_reset()
    {
        using var poll = new Poll();
        using var waker = new Waker(poll.Registry, (Token)9);
        waker.Wake();
        var events = new Events(4);
        poll.Wait(events, TimeSpan.FromSeconds(5));

        Events.Enumerator enumerator = events.GetEnumerator();
        Assert.True(typeof(Events.Enumerator).IsValueType);
        Assert.True(enumerator.MoveNext());
        Assert.Equal((Token)9, enumerator.Current.Token);
        Assert.False(enumerator.MoveNext());
        enumerator.Reset();
        Assert.True(enumerator.MoveNext());
        enumerator.Dispose();
    }
}
