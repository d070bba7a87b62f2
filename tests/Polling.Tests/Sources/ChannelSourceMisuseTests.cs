using System.Threading.Channels;
using Xunit;

namespace Polling.Tests.Sources;

public sealed class ChannelSourceMisuseTests : IDisposable
{
    private const Token Channel = (Token)7;
    private readonly Poll _poll = new();
    private readonly Events _events = new(16);

    public void Dispose() => _poll.Dispose();

    [Fact]
    public void NullOptions_throw()
    {
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ChannelSource.CreateUnbounded<int>(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ChannelSource.CreateBounded<int>(null!)).ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void CapacityBelowOne_throws(int capacity)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ChannelSource.CreateBounded<int>(capacity));
        Assert.Equal("capacity", e.ParamName);
        Assert.Contains("at least one message", e.Message);
    }

    [Theory]
    [InlineData(Interest.Writable)]
    [InlineData(Interest.Readable | Interest.Writable)]
    [InlineData(Interest.Priority)]
    public void InterestOtherThanReadable_throws_and_leaves_the_source_unregistered(Interest interest)
    {
        using var source = ChannelSource.CreateUnbounded<int>();
        var e = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(source, Channel, interest));
        Assert.Equal("interest", e.ParamName);
        Assert.Contains("Interest.Readable", e.Message);
        _poll.Registry.Register(source, Channel, Interest.Readable);
        source.Writer.TryWrite(1);
        Loop.AssertEvent(_poll, _events, Channel, "registration works after the refused one");
    }

    [Fact]
    public void NullSourceOrRegistry_throws()
    {
        Assert.Throws<ArgumentNullException>(() => _poll.Registry.Register(null!, Channel, Interest.Readable));
        using var source = ChannelSource.CreateUnbounded<int>();
        Assert.Throws<ArgumentNullException>(() => ((ISource)source).Register(null!, Channel, Interest.Readable, Trigger.Edge));
    }

    [Fact]
    public void UseAfterDispose_throws_naming_the_source()
    {
        var source = ChannelSource.CreateUnbounded<int>();
        source.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Register(source, Channel, Interest.Readable));
        Assert.Contains("ChannelSource<Int32>(unbounded)", e.Message);
        Assert.Throws<ObjectDisposedException>(() => source.TryRead(out _));
        Assert.False(source.Writer.TryWrite(1));
    }

    [Fact]
    public void WriteAfterComplete_is_refused_like_any_channel()
    {
        using var source = ChannelSource.CreateUnbounded<int>();
        source.Writer.Complete();
        Assert.False(source.Writer.TryWrite(1));
        Assert.Throws<ChannelClosedException>(() => source.Writer.WriteAsync(1).AsTask().GetAwaiter().GetResult());
        Assert.Throws<ChannelClosedException>(() => source.Writer.Complete());
    }
}
