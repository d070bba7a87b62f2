using System.Net;

namespace Polling.Actors;

/// <summary>
/// A connection actor's handle to its socket — the sending side. <see cref="Send"/> hands a reply to the loop,
/// which encodes and writes it; <see cref="Progress"/> says, now, how far delivery has got. Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Back-pressure from the socket.</b> While more than <see cref="ActorServerOptions.HighWaterMark"/> bytes
/// wait to be written (the peer reads slowly or not at all), the connection is <see cref="IsCongested"/> and its
/// actor takes no further message from its mailbox until the loop has written it down to half of that. The mailbox
/// then fills to its bound, and senders see it (<see cref="ActorRef{TMessage}.TrySend"/> returns
/// <see langword="false"/>): memory stays bounded, the slow receiver costs its senders nothing.</para>
/// <para><b>Delivery progress.</b> "Send and forget" is what actors are criticised for; here the actor (and anyone
/// holding the connection) can see bytes queued, bytes the kernel has taken, and what is still pending.</para>
/// </remarks>
/// <example>
/// <code>
/// Connection.Send($"{from}: {text}");
/// ConnectionProgress p = Connection.Progress;   // p.BytesQueued, p.BytesSent, p.PendingBytes
/// </code>
/// </example>
/// <typeparam name="TReply">What the actor sends.</typeparam>
public sealed class Connection<TReply>
{
    private readonly IConnectionPort<TReply> _port;
    private readonly int _highWaterMark;
    private readonly int _maxRepliesWaiting;
    private long _bytesReceived;
    private long _messagesReceived;
    private long _bytesQueued;
    private long _bytesSent;
    private long _repliesWaiting;
    private int _open = 1;
    private int _readPaused;
    private TaskCompletionSource? _drained;

    internal Connection(IConnectionPort<TReply> port, long id, IPEndPoint remote, int highWaterMark, int maxRepliesWaiting)
    {
        _port = port;
        Id = id;
        RemoteEndPoint = remote;
        _highWaterMark = highWaterMark;
        _maxRepliesWaiting = maxRepliesWaiting;
    }

    /// <summary>A number unique to this connection within its server.</summary>
    public long Id { get; }

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Whether the socket is still open.</summary>
    public bool IsOpen => Volatile.Read(ref _open) == 1;

    /// <summary>Bytes queued and not yet taken by the kernel, plus replies not yet encoded, are above the high-water mark.</summary>
    public bool IsCongested =>
        IsOpen && (PendingBytes >= _highWaterMark || Interlocked.Read(ref _repliesWaiting) >= _maxRepliesWaiting);

    /// <summary>Where delivery stands now.</summary>
    public ConnectionProgress Progress => new(
        Id,
        Interlocked.Read(ref _bytesReceived),
        Interlocked.Read(ref _messagesReceived),
        Interlocked.Read(ref _bytesQueued),
        Interlocked.Read(ref _bytesSent),
        Interlocked.Read(ref _repliesWaiting),
        Volatile.Read(ref _readPaused) == 1,
        IsOpen);

    private long PendingBytes => Interlocked.Read(ref _bytesQueued) - Interlocked.Read(ref _bytesSent);

    /// <summary>
    /// Hands <paramref name="reply"/> to the loop, which encodes and writes it in order. Never blocks; returns
    /// <see langword="false"/> if the connection is closed (the reply is dropped).
    /// </summary>
    /// <param name="reply">The reply.</param>
    public bool Send(TReply reply)
    {
        if (!IsOpen)
        {
            return false;
        }

        Interlocked.Increment(ref _repliesWaiting);
        if (_port.Post(this, LoopCommandKind.Send, reply))
        {
            return true;
        }

        Interlocked.Decrement(ref _repliesWaiting);
        return false;
    }

    /// <summary>Closes the connection once what was sent before is written (or the peer is gone); the actor then receives its disconnect message.</summary>
    public void Close() => _port.Post(this, LoopCommandKind.Close, default);

    /// <inheritdoc/>
    public override string ToString() => $"connection {Id} from {RemoteEndPoint}: {Progress}";

    // ---- loop side -----------------------------------------------------------------------------------------

    /// <summary>The server's state for this connection (loop thread only).</summary>
    internal object? Session { get; set; }

    internal void CountReceived(int bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void CountMessage() => Interlocked.Increment(ref _messagesReceived);

    internal void Encoded(int bytes)
    {
        Interlocked.Add(ref _bytesQueued, bytes);
        Interlocked.Decrement(ref _repliesWaiting);
    }

    internal void Dropped() => Interlocked.Decrement(ref _repliesWaiting);

    /// <summary>After a write (of any number of bytes, also none): wakes the actor if it waits and the backlog is down to half the high-water mark.</summary>
    internal void Sent(int bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        if (PendingBytes <= _highWaterMark / 2 && Interlocked.Read(ref _repliesWaiting) < _maxRepliesWaiting)
        {
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
        }
    }

    internal void MarkClosed()
    {
        Volatile.Write(ref _open, 0);
        Interlocked.Exchange(ref _drained, null)?.TrySetResult();
    }

    internal void SetReadPaused(bool paused) => Volatile.Write(ref _readPaused, paused ? 1 : 0);

    /// <summary>Actor side: waits while the connection is congested. Publishes the waiter, then looks again, so a drain in between is not missed.</summary>
    internal ValueTask WhenDrainedAsync()
    {
        if (!IsCongested)
        {
            return ValueTask.CompletedTask;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _drained, waiter);
        if (!IsCongested)
        {
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
        }

        return new ValueTask(waiter.Task);
    }
}

/// <summary>Where one connection's delivery stands.</summary>
/// <param name="Id">The connection.</param>
/// <param name="BytesReceived">Bytes read from the socket.</param>
/// <param name="MessagesReceived">Messages parsed from them and delivered to the actor's mailbox.</param>
/// <param name="BytesQueued">Reply bytes encoded for the socket.</param>
/// <param name="BytesSent">Reply bytes the kernel has taken.</param>
/// <param name="RepliesWaiting">Replies sent by the actor and not yet encoded by the loop.</param>
/// <param name="ReadPaused">Reading is paused because the actor's mailbox is full.</param>
/// <param name="IsOpen">The socket is open.</param>
/// <example>
/// <code>
/// ConnectionProgress p = connection.Progress;
/// Console.WriteLine($"{p.PendingBytes} bytes not yet delivered");
/// </code>
/// </example>
public readonly record struct ConnectionProgress(
    long Id, long BytesReceived, long MessagesReceived, long BytesQueued, long BytesSent, long RepliesWaiting, bool ReadPaused, bool IsOpen)
{
    /// <summary>Bytes queued and not yet taken by the kernel.</summary>
    public long PendingBytes => BytesQueued - BytesSent;
}

internal enum LoopCommandKind
{
    Send,
    Close,
    Resume,
}

/// <summary>The way from a connection (any thread) into its server's loop.</summary>
internal interface IConnectionPort<TReply>
{
    bool Post(Connection<TReply> connection, LoopCommandKind kind, TReply? reply);
}
