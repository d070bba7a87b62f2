using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// Creates anonymous pipes whose two ends are <see cref="Registry">registrable</see> sources: a
/// one-way byte channel between threads, or — since the descriptors can be handed to a child process —
/// between processes. This is mio's <c>unix::pipe::new</c>.
/// </summary>
/// <remarks>
/// <para>Both ends are created non-blocking and close-on-exec in one <c>pipe2</c> call and are
/// independent objects: dispose each of them. Disposing the <see cref="PipeSender"/> makes the receiver
/// report <see cref="Event.IsReadClosed"/> and its <see cref="PipeReceiver.TryRead(Span{byte}, out int)"/> return
/// <see langword="true"/> with 0 bytes once the buffered data is read; disposing the
/// <see cref="PipeReceiver"/> makes the sender report <see cref="Event.IsWriteClosed"/> (and
/// <see cref="Event.IsError"/>) and its <see cref="PipeSender.TryWrite(ReadOnlySpan{byte}, out int)"/> throw
/// <see cref="IOException"/> (EPIPE) — never a <c>SIGPIPE</c>, which .NET ignores.</para>
/// <para>The kernel buffers 64 KiB per pipe by default; a write larger than the free space is partial,
/// and writes of up to 4096 bytes (<c>PIPE_BUF</c>) are atomic.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Input = (Token)1;
/// var (sender, receiver) = Pipe.Create();
/// using (sender) using (receiver)
/// {
///     using var poll = new Poll();
///     poll.Registry.Register(receiver, Input, Interest.Readable);
///     sender.TryWrite("ping"u8, out _);
///
///     var events = new Events(8);
///     poll.Wait(events);
///     Span&lt;byte&gt; buffer = stackalloc byte[64];
///     while (receiver.TryRead(buffer, out int n) &amp;&amp; n &gt; 0)
///         Console.WriteLine(Encoding.ASCII.GetString(buffer[..n]));   // ping
/// }
/// </code>
/// </example>
public static class Pipe
{
    /// <summary>Creates a pipe (<c>pipe2(O_NONBLOCK | O_CLOEXEC)</c>) and returns its two ends.</summary>
    /// <returns>The writing end and the reading end; the caller owns and disposes both.</returns>
    /// <exception cref="IOException">The kernel refused (e.g. the descriptor limit was reached).</exception>
    public static (PipeSender Sender, PipeReceiver Receiver) Create()
    {
        (FdHandle read, FdHandle write) = PipeFd.Create();
        return (new PipeSender(write), new PipeReceiver(read));
    }
}
