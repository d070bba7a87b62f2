using System.Threading.Channels;

namespace Polling;

/// <summary>
/// The writer half of a <see cref="ChannelSource{T}"/>: forwards every operation to the channel's own
/// writer (so capacity, full mode, backpressure and completion are exactly the channel's), and after each
/// successful write or completion notifies the loop through the source's <see cref="Notifier"/>.
/// </summary>
internal sealed class ChannelSourceWriter<T> : ChannelWriter<T>
{
    private readonly ChannelSource<T> _source;
    private readonly ChannelWriter<T> _inner;
    private readonly Notifier _notifier;

    public ChannelSourceWriter(ChannelSource<T> source, ChannelWriter<T> inner, Notifier notifier)
    {
        _source = source;
        _inner = inner;
        _notifier = notifier;
    }

    public override bool TryWrite(T item)
    {
        if (!_inner.TryWrite(item))
        {
            return false;
        }

        _notifier.Notify();
        return true;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) =>
        _inner.WaitToWriteAsync(cancellationToken);

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        // The channel's own WriteAsync keeps its semantics (a bounded Wait channel queues blocked writers
        // in order and hands their items over as the loop reads). Only a write that has to wait allocates.
        ValueTask write = _inner.WriteAsync(item, cancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            _notifier.Notify();
            return default;
        }

        return NotifyWhenWritten(write);
    }

    public override bool TryComplete(Exception? error = null)
    {
        if (!_source.TryComplete(error))
        {
            return false;
        }

        _notifier.Notify();
        return true;
    }

    public override string ToString() => $"Writer of {_source}";

    private async ValueTask NotifyWhenWritten(ValueTask write)
    {
        await write.ConfigureAwait(false);
        _notifier.Notify();
    }
}
