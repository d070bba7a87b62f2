namespace Polling.Net.Os;

/// <content>
/// The short-read drain: a stream read that returned fewer bytes than the buffer holds may count as drained
/// for edge triggering, which saves the read that would return EAGAIN (one system call per round trip).
/// </content>
internal partial struct SocketCore
{
    /// <summary>
    /// <c>recv</c> on a stream socket (Readable) that also says whether the caller may stop reading:
    /// <paramref name="drained"/> is <see langword="true"/> after would-block, end of stream, or a read of
    /// 1 ≤ n &lt; <paramref name="buffer"/>.Length bytes. A short read is told to the backend like a would-block
    /// (<see cref="Registration.Complete"/> with <c>drains</c>), so poll(2)'s edge emulation rearms Readable;
    /// epoll needs nothing (every segment a TCP socket queues raises a new edge).
    /// </summary>
    public readonly bool TryReceiveStream(Span<byte> buffer, out int received, out bool drained, string action, object owner)
    {
        int errno = Calls.Receive(Live(owner), buffer, 0, out received);
        bool shortRead = errno == 0 && received > 0 && received < buffer.Length;
        switch (_io.Complete(errno, Interest.Readable, drains: shortRead))
        {
            case IoOutcome.Done:
                drained = shortRead || received == 0 && !buffer.IsEmpty;
                return true;
            case IoOutcome.WouldBlock:
                drained = true;
                return false;
            default:
                throw IoFailure(errno, action, owner);
        }
    }
}
