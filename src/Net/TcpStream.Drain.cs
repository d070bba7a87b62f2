using System.Net.Sockets;

namespace Polling.Net;

public sealed partial class TcpStream
{
    /// <summary>
    /// Reads like <see cref="TryRead(Span{byte}, out int)"/> and also says whether an edge-triggered loop may stop
    /// reading now and wait for the next event: the short-read drain, which saves the read that would only return
    /// would-block — one system call fewer per request/response round trip.
    /// </summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="bytesRead">How many bytes were read; 0 with a <see langword="true"/> result means end of stream.</param>
    /// <param name="drained">
    /// <see langword="true"/> when the receive queue was empty after this call: it would block (the result is
    /// <see langword="false"/>), it reached end of stream, or it read fewer bytes than <paramref name="buffer"/>
    /// holds (a short read). <see langword="false"/> when it filled the buffer: more may be waiting, read again.
    /// </param>
    /// <returns><see langword="false"/> if nothing is available yet (EAGAIN).</returns>
    /// <remarks>
    /// <para><b>When stopping at a short read is safe.</b> A TCP read returns less than asked only when it took
    /// everything the socket had queued, and every segment that arrives afterwards wakes epoll again, so with
    /// <see cref="Trigger.Edge"/> the next event is guaranteed (no lost wake-up). On the poll(2) backend a short read
    /// counts as a would-block, so its edge emulation rearms Readable just as after <c>false</c>. With
    /// <see cref="Trigger.Level"/> or <see cref="Trigger.Oneshot"/> (after <see cref="Registry.Reregister"/>)
    /// stopping early is always safe.</para>
    /// <para><b>Two exceptions: keep reading until <c>false</c> or 0 when the event you are handling reported</b>
    /// <see cref="Event.IsReadClosed"/> — the peer's FIN ends a read short with the end of stream still to come,
    /// and no further event announces it — <b>or</b> <see cref="Event.IsPriority"/> — urgent (out-of-band) data stops
    /// a read at its mark. So the loop condition is <c>drained &amp;&amp; !ev.IsReadClosed &amp;&amp; !ev.IsPriority</c>.
    /// It is offered on <see cref="TcpStream"/> only: a Unix stream read also stops short where passed descriptors
    /// or credentials change, with more data queued.</para>
    /// </remarks>
    /// <example>
    /// <code>
    /// // Edge-triggered echo: one recv and one send per round trip instead of recv, send, recv (EAGAIN).
    /// while (stream.TryRead(buffer, out int n, out bool drained))
    /// {
    ///     if (n == 0) { stream.Dispose(); break; }                      // end of stream
    ///     stream.TryWrite(buffer.AsSpan(0, n), out _);                 // echo
    ///     if (drained &amp;&amp; !ev.IsReadClosed &amp;&amp; !ev.IsPriority) break;    // short read: wait for the next edge
    /// }
    /// </code>
    /// </example>
    /// <exception cref="SocketException">The connection failed, e.g. <see cref="SocketError.ConnectionReset"/>.</exception>
    public bool TryRead(Span<byte> buffer, out int bytesRead, out bool drained) =>
        _core.TryReceiveStream(buffer, out bytesRead, out drained, "read from", this);
}
