using System.Threading.Channels;

namespace Polling;

/// <summary>
/// Creates <see cref="ChannelSource{T}"/>s: channels from <see cref="System.Threading.Channels"/> whose
/// reading end is registered with a <see cref="Poll"/>. Mirrors <see cref="Channel"/>: unbounded, or
/// bounded with the channel's own <see cref="BoundedChannelFullMode"/> (Wait gives writers backpressure
/// through <c>WaitToWriteAsync</c>/<c>WriteAsync</c>; the Drop modes never block a writer).
/// </summary>
/// <example>
/// <code>
/// using var commands = ChannelSource.CreateUnbounded&lt;Command&gt;();
/// using var results = ChannelSource.CreateBounded&lt;Result&gt;(new BoundedChannelOptions(1024)
/// {
///     FullMode = BoundedChannelFullMode.Wait,   // workers wait while the loop is behind
/// });
/// poll.Registry.Register(commands, (Token)1, Interest.Readable);
/// poll.Registry.Register(results, (Token)2, Interest.Readable);
///
/// sealed record Command(string Text);
/// sealed record Result(int Value);
/// </code>
/// </example>
public static class ChannelSource
{
    /// <summary>Creates a source over an unbounded channel for any number of writers.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    public static ChannelSource<T> CreateUnbounded<T>() => CreateUnbounded<T>(new UnboundedChannelOptions());

    /// <summary>
    /// Creates a source over an unbounded channel. <paramref name="options"/> supplies <c>SingleWriter</c>
    /// and <c>AllowSynchronousContinuations</c>; <c>SingleReader</c> is always on, since the loop is the one reader.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="options">The channel options; not changed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static ChannelSource<T> CreateUnbounded<T>(UnboundedChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var own = new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = options.SingleWriter,
            AllowSynchronousContinuations = options.AllowSynchronousContinuations,
        };
        return new ChannelSource<T>(Channel.CreateUnbounded<T>(own), "unbounded");
    }

    /// <summary>Creates a source over a bounded channel that makes writers wait while it is full (<see cref="BoundedChannelFullMode.Wait"/>).</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="capacity">The most messages the channel holds; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public static ChannelSource<T> CreateBounded<T>(int capacity)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                "A bounded channel needs room for at least one message; pass a capacity of 1 or more, or use CreateUnbounded.");
        }

        return CreateBounded<T>(new BoundedChannelOptions(capacity));
    }

    /// <summary>
    /// Creates a source over a bounded channel with the capacity, <see cref="BoundedChannelOptions.FullMode"/>,
    /// <c>SingleWriter</c> and <c>AllowSynchronousContinuations</c> of <paramref name="options"/>
    /// (<c>SingleReader</c> is always on). <paramref name="itemDropped"/> is called, on the writing thread, for
    /// each message a Drop mode discards.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="options">The channel options; not changed.</param>
    /// <param name="itemDropped">Called with each message dropped because the channel was full; optional.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static ChannelSource<T> CreateBounded<T>(BoundedChannelOptions options, Action<T>? itemDropped = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var own = new BoundedChannelOptions(options.Capacity)
        {
            FullMode = options.FullMode,
            SingleReader = true,
            SingleWriter = options.SingleWriter,
            AllowSynchronousContinuations = options.AllowSynchronousContinuations,
        };
        return new ChannelSource<T>(Channel.CreateBounded(own, itemDropped), $"bounded {own.Capacity}, {own.FullMode}");
    }
}
