using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Polling.Actors;

/// <summary>
/// The protocol of one connection, as the lecture's socket actor has it: <see cref="TryDecode"/> turns received
/// bytes into typed messages (the receiving side), <see cref="Encode"/> turns replies into bytes (the sending
/// side); everything else sees only typed objects. An <see cref="ActorServer{TMessage,TReply}"/> makes one codec per
/// connection, so a codec may keep state (e.g. "skipping the rest of a line that was too long"). Called on the loop thread.
/// </summary>
/// <remarks>
/// <b>Warm it up.</b> The loop may parse the first line only after it has accepted connections up to the descriptor
/// cap (a burst that filled the backlog before the loop ran), when only the headroom is free. Whatever the codec
/// loads lazily then (an assembly such as System.Linq, a static encoding) fails with
/// <see cref="FileNotFoundException"/> and ends the process: run every kind of input and reply through a scratch
/// codec before the server accepts anyone (see <c>ChatCodec.Warmup</c> in samples/Chat).
/// </remarks>
/// <example>
/// <code>
/// sealed class ChatCodec : ISocketCodec&lt;ChatInput, string&gt; { ... }
/// new ActorServer&lt;ChatInput, string&gt;(endpoint, () =&gt; new ChatCodec(), connection =&gt; new ChatSession(room));
/// </code>
/// </example>
/// <typeparam name="TMessage">What the connection's actor receives.</typeparam>
/// <typeparam name="TReply">What it sends back.</typeparam>
public interface ISocketCodec<TMessage, TReply>
{
    /// <summary>
    /// Parses the next message from the front of <paramref name="input"/>: <see langword="true"/> with the message and
    /// the bytes it used; <see langword="false"/> when more bytes are needed. Bad input should become a message
    /// (so the actor can answer it), not an exception; a codec that cannot use a full read buffer must consume it.
    /// </summary>
    /// <param name="input">Bytes received and not yet consumed.</param>
    /// <param name="message">The message.</param>
    /// <param name="consumed">How many bytes it used: more than zero when the result is true; may be more than zero when false (bytes skipped).</param>
    bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out TMessage message, out int consumed);

    /// <summary>The last message the actor receives: the connection is closed (by the peer, an error, or <see cref="Connection{TReply}.Close"/>).</summary>
    /// <param name="reason">Why.</param>
    TMessage Disconnected(DisconnectReason reason);

    /// <summary>Writes <paramref name="reply"/>.</summary>
    /// <param name="reply">The reply.</param>
    /// <param name="output">Where the bytes go.</param>
    void Encode(TReply reply, IBufferWriter<byte> output);
}

/// <summary>Why a connection closed.</summary>
public enum DisconnectReason
{
    /// <summary>The peer closed its end.</summary>
    PeerClosed,

    /// <summary>The connection failed (reset, or another socket error).</summary>
    Error,

    /// <summary>The actor closed it with <see cref="Connection{TReply}.Close"/>.</summary>
    Closed,

    /// <summary>The server is shutting down.</summary>
    ServerStopped,
}
