using System.Runtime.InteropServices;
using Polling.Net.Os;
using Polling.Os;
using static Tmds.Linux.LibC;

namespace Polling.Net;

/// <summary>
/// The reading end of a pipe, as a non-blocking source: register it for <see cref="Interest.Readable"/>
/// and call <see cref="TryRead(Span{byte}, out int)"/> until it returns <see langword="false"/>. Create one with
/// <see cref="Pipe.Create"/>, or adopt a pipe from elsewhere (a child process's standard output) with
/// <see cref="FromHandle"/>. This is mio's <c>unix::pipe::Receiver</c>.
/// </summary>
/// <remarks>
/// <para>When every writer has closed, the receiver reports <see cref="Event.IsReadClosed"/> and
/// <see cref="TryRead(Span{byte}, out int)"/> returns <see langword="true"/> with 0 bytes once the buffered data is consumed.</para>
/// <para><b>Errors:</b> would-block is never an exception (<see cref="TryRead(Span{byte}, out int)"/> returns
/// <see langword="false"/>); EINTR is retried; other failures throw <see cref="IOException"/> with the errno
/// in <see cref="Exception.HResult"/> (a pipe is not a socket, so not <c>SocketException</c>).</para>
/// <para><b>Thread safety:</b> registration and <see cref="Dispose"/> may race with I/O on other threads
/// safely (the descriptor is never used after it is closed); concurrent reads interleave as the kernel does.</para>
/// <para><b>Registering:</b> the interest must include <see cref="Interest.Readable"/>: a read end never becomes writable, so <see cref="Interest.Writable"/> alone throws <see cref="ArgumentException"/> (<c>Readable | Writable</c> is accepted; the writable part never fires).</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// var (sender, receiver) = Pipe.Create();
/// poll.Registry.Register(receiver, (Token)1, Interest.Readable);
/// // on an event for token 1:
/// while (receiver.TryRead(buffer, out int n))
/// {
///     if (n == 0) { receiver.Dispose(); break; }   // every writer closed
///     Console.Write(Encoding.UTF8.GetString(buffer, 0, n));
/// }
/// </code>
/// </example>
public sealed class PipeReceiver : ISource, IDisposable
{
    private IoSource _io;

    internal PipeReceiver(FdHandle handle)
    {
        _io = new IoSource(handle);
    }

    /// <summary>
    /// Takes ownership of the reading end of a pipe opened elsewhere — for example
    /// <c>AnonymousPipeServerStream.SafePipeHandle</c> or a child process's standard-output pipe — and makes
    /// it non-blocking and close-on-exec. <paramref name="handle"/> is marked invalid (it will not close the
    /// descriptor); stop using whatever stream wrapped it.
    /// </summary>
    /// <remarks>Non-blocking mode is a property of the open pipe, so it also affects other descriptors
    /// that share it (e.g. the same pipe inherited by another process).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="handle"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> is closed or invalid, or not open for reading.</exception>
    /// <exception cref="IOException">The kernel refused to change the descriptor's flags.</exception>
    public static PipeReceiver FromHandle(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new PipeReceiver(PipeFd.Adopt(handle, O_RDONLY, nameof(PipeReceiver)));
    }

    /// <summary>
    /// The pipe descriptor, for your own system calls (e.g. <c>fcntl(F_SETPIPE_SZ)</c> to resize the pipe):
    /// <c>(int)Handle.DangerousGetHandle()</c>, bracketed by <c>DangerousAddRef</c>/<c>DangerousRelease</c> if
    /// another thread may dispose the receiver. The receiver owns it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _io.Handle;

    /// <summary>
    /// Reads what the pipe holds into <paramref name="buffer"/>, without blocking.
    /// </summary>
    /// <param name="buffer">Where to put the bytes. An empty buffer returns <see langword="true"/> with 0 at once.</param>
    /// <param name="bytesRead">How many bytes were read; 0 with a <see langword="true"/> result means every
    /// writer has closed (end of stream).</param>
    /// <returns><see langword="false"/> when the pipe is empty but still has a writer (EAGAIN): wait for the
    /// next readable event.</returns>
    /// <exception cref="IOException">The read failed for another reason (errno in <see cref="Exception.HResult"/>).</exception>
    public bool TryRead(Span<byte> buffer, out int bytesRead)
    {
        _io.ThrowIfDisposed(this);
        if (buffer.IsEmpty)
        {
            bytesRead = 0;
            return true;
        }

        return _io.TryRead(buffer, out bytesRead, "read from", this);
    }

    /// <summary>
    /// Reads into several buffers in order with one system call (<c>readv</c>, scatter I/O), without blocking.
    /// Allocates nothing; at most 1024 non-empty segments and <see cref="int.MaxValue"/> bytes are used per call (the count says how far it got).
    /// </summary>
    /// <param name="buffers">The segments to fill, in order. With no non-empty segment the result is <see langword="true"/> with 0, as for an empty span.</param>
    /// <param name="bytesRead">The total bytes read; 0 with a <see langword="true"/> result means every writer has closed.</param>
    /// <returns><see langword="false"/> when the pipe is empty but still has a writer (EAGAIN).</returns>
    /// <exception cref="IOException">The read failed (errno in <see cref="Exception.HResult"/>).</exception>
    public bool TryRead(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesRead) =>
        _io.TryVectored(VectorCall.Read, buffers, out bytesRead, "read from", this);

    /// <summary>Deregisters the receiver and closes its descriptor; writers then get EPIPE. Idempotent.</summary>
    public void Dispose() => _io.Close();

    /// <summary>Returns e.g. <c>PipeReceiver(fd 7)</c>, or <c>PipeReceiver(disposed)</c>.</summary>
    public override string ToString() => _io.IsDisposed ? "PipeReceiver(disposed)" : $"PipeReceiver(fd {_io.Fd})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        PipeInterest.Require(interest, Interest.Readable, this);
        _io.Register(registry, token, interest, trigger, this);
    }

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        PipeInterest.Require(interest, Interest.Readable, this);
        _io.Reregister(registry, token, interest, trigger, this);
    }

    void ISource.Deregister(Registry registry) => _io.Deregister(registry, this);
}
