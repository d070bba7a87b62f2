using System.Runtime.InteropServices;
using Polling.Net.Os;
using Polling.Os;
using static Tmds.Linux.LibC;

namespace Polling.Net;

/// <summary>
/// The writing end of a pipe, as a non-blocking source: call <see cref="TryWrite(ReadOnlySpan{byte}, out int)"/>; when it returns
/// <see langword="false"/> (the pipe is full) or writes only part of the data, wait for
/// <see cref="Interest.Writable"/> and write the rest. Create one with <see cref="Pipe.Create"/>, or adopt a
/// pipe from elsewhere (a child process's standard input) with <see cref="FromHandle"/>. This is mio's
/// <c>unix::pipe::Sender</c>.
/// </summary>
/// <remarks>
/// <para>When the reading end is closed, the sender reports <see cref="Event.IsWriteClosed"/> and
/// <see cref="Event.IsError"/>, and <see cref="TryWrite(ReadOnlySpan{byte}, out int)"/> throws <see cref="IOException"/> with
/// <see cref="Exception.HResult"/> 32 (EPIPE). No <c>SIGPIPE</c> is raised: the .NET runtime ignores that
/// signal in every process.</para>
/// <para><b>Errors:</b> would-block is never an exception (<see cref="TryWrite(ReadOnlySpan{byte}, out int)"/> returns
/// <see langword="false"/>); EINTR is retried; failures throw <see cref="IOException"/> with the errno in
/// <see cref="Exception.HResult"/> (a pipe is not a socket, so not <c>SocketException</c>).</para>
/// <para><b>Thread safety:</b> registration and <see cref="Dispose"/> may race with I/O on other threads
/// safely (the descriptor is never used after it is closed); writes of up to 4096 bytes are atomic.</para>
/// <para><b>Registering:</b> the interest must include <see cref="Interest.Writable"/>: a write end never becomes readable, so <see cref="Interest.Readable"/> alone throws <see cref="ArgumentException"/> (<c>Readable | Writable</c> is accepted; the readable part never fires).</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// // Write `pending` as far as the pipe takes it; resume on the next writable event.
/// var (sender, receiver) = Pipe.Create();
/// ReadOnlyMemory&lt;byte&gt; pending = "a long message"u8.ToArray();
/// while (!pending.IsEmpty &amp;&amp; sender.TryWrite(pending.Span, out int n))
///     pending = pending[n..];
/// if (!pending.IsEmpty)
///     poll.Registry.Reregister(sender, (Token)2, Interest.Writable);
/// </code>
/// </example>
public sealed class PipeSender : ISource, IDisposable
{
    private IoSource _io;

    internal PipeSender(FdHandle handle)
    {
        _io = new IoSource(handle);
    }

    /// <summary>
    /// Takes ownership of the writing end of a pipe opened elsewhere — for example
    /// <c>AnonymousPipeServerStream.SafePipeHandle</c> or a child process's standard-input pipe — and makes
    /// it non-blocking and close-on-exec. <paramref name="handle"/> is marked invalid (it will not close the
    /// descriptor); stop using whatever stream wrapped it.
    /// </summary>
    /// <remarks>Non-blocking mode is a property of the open pipe, so it also affects other descriptors
    /// that share it (e.g. the same pipe inherited by another process).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="handle"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> is closed or invalid, or not open for writing.</exception>
    /// <exception cref="IOException">The kernel refused to change the descriptor's flags.</exception>
    public static PipeSender FromHandle(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new PipeSender(PipeFd.Adopt(handle, O_WRONLY, nameof(PipeSender)));
    }

    /// <summary>
    /// The pipe descriptor, for your own system calls (e.g. <c>fcntl(F_SETPIPE_SZ)</c> to resize the pipe):
    /// <c>(int)Handle.DangerousGetHandle()</c>, bracketed by <c>DangerousAddRef</c>/<c>DangerousRelease</c> if
    /// another thread may dispose the sender. The sender owns it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _io.Handle;

    /// <summary>
    /// Writes as much of <paramref name="buffer"/> as the pipe has room for, without blocking.
    /// </summary>
    /// <param name="buffer">The bytes to write. An empty buffer returns <see langword="true"/> with 0 at once.</param>
    /// <param name="bytesWritten">How many bytes were written; fewer than <c>buffer.Length</c> when the pipe
    /// filled up (write the rest after the next writable event).</param>
    /// <returns><see langword="false"/> when the pipe is full (EAGAIN): wait for the next writable event.</returns>
    /// <exception cref="IOException">The reading end is closed (EPIPE, <see cref="Exception.HResult"/> 32), or the
    /// write failed for another reason (errno in <see cref="Exception.HResult"/>).</exception>
    public bool TryWrite(ReadOnlySpan<byte> buffer, out int bytesWritten)
    {
        _io.ThrowIfDisposed(this);
        if (buffer.IsEmpty)
        {
            bytesWritten = 0;
            return true;
        }

        return _io.TryWrite(buffer, out bytesWritten, "write to", this);
    }

    /// <summary>
    /// Writes several buffers in order with one system call (<c>writev</c>, gather I/O), without blocking — e.g. a
    /// header and a body without copying them together. Allocates nothing; at most 1024 non-empty segments and <see cref="int.MaxValue"/> bytes are used per call (the count says how far it got). Up to
    /// 4096 bytes in total are written atomically.
    /// </summary>
    /// <param name="buffers">The segments to write, in order.</param>
    /// <param name="bytesWritten">The total bytes taken; may be fewer than all segments hold.</param>
    /// <returns><see langword="false"/> when the pipe is full (EAGAIN).</returns>
    /// <exception cref="IOException">The reading end is closed (EPIPE), or the write failed for another reason.</exception>
    public bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesWritten) =>
        _io.TryVectored(VectorCall.Write, buffers, out bytesWritten, "write to", this);

    /// <summary>Deregisters the sender and closes its descriptor; the receiver then sees end of stream. Idempotent.</summary>
    public void Dispose() => _io.Close();

    /// <summary>Returns e.g. <c>PipeSender(fd 7)</c>, or <c>PipeSender(disposed)</c>.</summary>
    public override string ToString() => _io.IsDisposed ? "PipeSender(disposed)" : $"PipeSender(fd {_io.Fd})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        PipeInterest.Require(interest, Interest.Writable, this);
        _io.Register(registry, token, interest, trigger, this);
    }

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        PipeInterest.Require(interest, Interest.Writable, this);
        _io.Reregister(registry, token, interest, trigger, this);
    }

    void ISource.Deregister(Registry registry) => _io.Deregister(registry, this);
}
