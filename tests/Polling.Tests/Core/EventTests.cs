using Polling.Os;

namespace Polling.Tests.Core;

/// <summary>The flag decoding follows mio's epoll mapping exactly.</summary>
public class EventTests
{
    private const uint In = EpollFlags.In, Pri = EpollFlags.Pri, Out = EpollFlags.Out, Err = EpollFlags.Err, Hup = EpollFlags.Hup, RdHup = EpollFlags.RdHup;

    [Theory]
    [InlineData(In, true, false, false, false, false, false)]
    [InlineData(Pri, true, false, false, false, false, true)]
    [InlineData(Out, false, true, false, false, false, false)]
    [InlineData(Err, false, false, true, false, true, false)]
    [InlineData(Out | Err, false, true, true, false, true, false)]
    [InlineData(In | Err, true, false, true, false, false, false)]
    [InlineData(Hup, false, false, false, true, true, false)]
    [InlineData(In | RdHup, true, false, false, true, false, false)]
    [InlineData(RdHup, false, false, false, false, false, false)]
    [InlineData(In | Out | Hup | Err, true, true, true, true, true, false)]
    public void Flags_decode_like_mio(uint flags, bool readable, bool writable, bool error, bool readClosed, bool writeClosed, bool priority)
    {
        var ev = new Event((Token)5, flags);
        Assert.Equal((Token)5, ev.Token);
        Assert.Equal(readable, ev.IsReadable);
        Assert.Equal(writable, ev.IsWritable);
        Assert.Equal(error, ev.IsError);
        Assert.Equal(readClosed, ev.IsReadClosed);
        Assert.Equal(writeClosed, ev.IsWriteClosed);
        Assert.Equal(priority, ev.IsPriority);
        Assert.Equal(flags, ev.Flags);
    }

    [Fact]
    public void ToString_names_the_token_and_the_readiness()
    {
        Assert.Equal("Event(Token 7: Readable, ReadClosed)", new Event((Token)7, In | RdHup).ToString());
        Assert.Equal("Event(Token 0: none)", new Event((Token)0, 0).ToString());
        Assert.Equal($"Event(Token {ulong.MaxValue}: Writable)", new Event((Token)ulong.MaxValue, Out).ToString());
    }

    [Fact]
    public void Events_are_equal_when_token_and_flags_are()
    {
        var a = new Event((Token)1, In);
        Assert.Equal(a, new Event((Token)1, In));
        Assert.True(a == new Event((Token)1, In));
        Assert.True(a != new Event((Token)2, In));
        Assert.NotEqual(a, new Event((Token)1, Out));
        Assert.False(a.Equals((object)"x"));
        Assert.Equal(a.GetHashCode(), new Event((Token)1, In).GetHashCode());
    }

    [Theory]
    [InlineData(Interest.Readable, Trigger.Edge, In | RdHup | EpollFlags.EdgeTriggered)]
    [InlineData(Interest.Writable, Trigger.Level, Out)]
    [InlineData(Interest.Priority, Trigger.Level | Trigger.Oneshot, Pri | EpollFlags.Oneshot)]
    [InlineData(Interest.Readable | Interest.Writable, Trigger.Edge | Trigger.Oneshot, In | RdHup | Out | EpollFlags.EdgeTriggered | EpollFlags.Oneshot)]
    public void Interest_and_trigger_map_to_the_epoll_bits_the_contract_names(Interest interest, Trigger trigger, uint expected)
    {
        Assert.Equal(expected, EpollFlags.For(interest, trigger));
    }
}
