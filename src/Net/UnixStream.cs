using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking Unix-domain stream connection that can be registered with a <see cref="Poll"/>: a client
/// from <see cref="Connect(string)"/>, a server side from <see cref="UnixListener.TryAccept(out UnixStream)"/>,
/// or both ends of an anonymous pair from <see cref="Pair"/>. The same <c>Try…</c> I/O as
/// <see cref="TcpStream"/>, plus the peer's credentials. This is mio's <c>UnixStream</c>.
/// </summary>
/// <remarks>
/// <para>A Unix connect completes at once (or fails at once, e.g. <see cref="SocketError.AddressNotAvailable"/>
/// when the path does not exist, <see cref="SocketError.ConnectionRefused"/> when nobody listens there); the
/// stream is writable immediately. Reads return <see langword="true"/> with 0 bytes at end of stream; writes may
/// be partial and never raise <c>SIGPIPE</c> (a write after the peer closed throws <see cref="SocketException"/>
/// with <see cref="SocketError.Shutdown"/>). "Would block" is <see langword="false"/>, never an exception.</para>
/// <para>Addresses are <see cref="UnixDomainSocketEndPoint"/>s: a path, an abstract name (starting with
/// <c>'\0'</c>), or unnamed (an empty path — what clients and <see cref="Pair"/> ends usually are).</para>
/// <para><see cref="Dispose"/> is idempotent; afterwards every member throws <see cref="ObjectDisposedException"/>.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> matches the
/// errno, with a message naming the operation and the socket. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// var (parent, child) = UnixStream.Pair();          // e.g. hand `child` to a worker thread
/// using var poll = new Poll();
/// poll.Registry.Register(parent, (Token)1, Interest.Readable);
/// child.TryWrite("ready"u8, out _);
/// var events = new Events(8);
/// poll.Wait(events);
/// Span&lt;byte&gt; buffer = stackalloc byte[64];
/// if (parent.TryRead(buffer, out int n))
///     Console.WriteLine(Encoding.UTF8.GetString(buffer[..n]));   // "ready"
/// Console.WriteLine(parent.PeerCredentials.ProcessId == Environment.ProcessId);  // True
/// </code>
/// </example>
public sealed partial class UnixStream : ISource, IDisposable
{
    private SocketCore _core;

    internal UnixStream(FdHandle handle)
    {
        _core = new SocketCore(handle);
    }

    /// <summary>This end's address; usually unnamed (empty path) for clients and pairs.</summary>
    public UnixDomainSocketEndPoint LocalEndPoint => _core.GetUnixEndPoint(peer: false, this);

    /// <summary>The peer's address: the listener's path for a client; usually unnamed for an accepted stream.</summary>
    /// <exception cref="SocketException"><see cref="SocketError.NotConnected"/> when not connected.</exception>
    public UnixDomainSocketEndPoint RemoteEndPoint => _core.GetUnixEndPoint(peer: true, this);

    /// <summary>The peer's process, user and group id as of connecting (<c>SO_PEERCRED</c>).</summary>
    /// <exception cref="SocketException">The kernel refused (e.g. not connected).</exception>
    public UnixCredentials PeerCredentials => _core.GetPeerCredentials(this);

    /// <summary>
    /// The socket descriptor, for your own system calls (e.g. passing descriptors with <c>SCM_RIGHTS</c>); bracket
    /// with <c>DangerousAddRef</c>/<c>DangerousRelease</c> if another thread may dispose the stream. The stream owns
    /// it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _core.Handle;

    /// <summary><c>SO_RCVBUF</c>, in bytes (Linux doubles the value you set and reports the doubled value).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value less than 1.</exception>
    public int ReceiveBufferSize
    {
        get => _core.GetBufferSize(receive: true, this);
        set => _core.SetBufferSize(receive: true, value, this);
    }

    /// <summary><c>SO_SNDBUF</c>, in bytes (Linux doubles the value you set and reports the doubled value).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value less than 1.</exception>
    public int SendBufferSize
    {
        get => _core.GetBufferSize(receive: false, this);
        set => _core.SetBufferSize(receive: false, value, this);
    }

    /// <summary>Connects to the listener at <paramref name="path"/>.</summary>
    /// <param name="path">A filesystem path (at most 107 UTF-8 bytes), or <c>"\0name"</c> for an abstract name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or too long for <c>sun_path</c>.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressNotAvailable"/> if no such path,
    /// <see cref="SocketError.ConnectionRefused"/> if nobody listens there, <see cref="SocketError.WouldBlock"/>
    /// if the listener's backlog is full (try again later), <see cref="SocketError.AccessDenied"/>, ….</exception>
    public static UnixStream Connect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, address);
        return Connect(address[..length], UnixListener.Describe(path));
    }

    /// <summary>Connects to the listener at <paramref name="endpoint"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="SocketException">As for <see cref="Connect(string)"/>.</exception>
    public static UnixStream Connect(UnixDomainSocketEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(endpoint, address);
        return Connect(address[..length], $"\"{endpoint}\"");
    }

    /// <summary>
    /// Two connected, unnamed streams (<c>socketpair</c>): what one writes the other reads. Both are
    /// non-blocking and close-on-exec; dispose both.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public static (UnixStream, UnixStream) Pair()
    {
        (FdHandle first, FdHandle second) = SocketCalls.CreatePair(LibC.SOCK_STREAM, "create a Unix stream pair (socketpair)");
        return (new UnixStream(first), new UnixStream(second));
    }

    /// <summary>
    /// Takes over a Unix stream <see cref="Socket"/> (connected): its descriptor is duplicated (close-on-exec) and
    /// made non-blocking, and <paramref name="socket"/> is disposed (a path it was bound to stays in place).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">Not a Unix stream socket, or a listening one (use
    /// <see cref="UnixListener.FromSocket"/>). It is left untouched.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static UnixStream FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ValidateUnixStream(socket, nameof(socket));
        if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int listening && listening != 0)
        {
            throw new ArgumentException("The socket is listening: use UnixListener.FromSocket for it.", nameof(socket));
        }

        var stream = new UnixStream(Adopt(socket, "take over a Unix Socket"));
        stream._core.CapturePeerName();
        return stream;
    }

    /// <inheritdoc cref="TcpStream.TryRead(Span{byte}, out int)"/>
    public bool TryRead(Span<byte> buffer, out int bytesRead) =>
        _core.TryReceive(buffer, 0, out bytesRead, "read from", this);

    /// <inheritdoc cref="TcpStream.TryRead(ReadOnlySpan{ArraySegment{byte}}, out int)"/>
    public bool TryRead(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesRead) =>
        _core.TryVectored(VectorCall.Receive, buffers, out bytesRead, "read from", this);

    /// <inheritdoc cref="TcpStream.TryWrite(ReadOnlySpan{byte}, out int)"/>
    public bool TryWrite(ReadOnlySpan<byte> buffer, out int bytesWritten) =>
        _core.TrySend(buffer, 0, out bytesWritten, "write to", this);

    /// <inheritdoc cref="TcpStream.TryWrite(ReadOnlySpan{ArraySegment{byte}}, out int)"/>
    public bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesWritten) =>
        _core.TryVectored(VectorCall.Send, buffers, out bytesWritten, "write to", this);

    /// <inheritdoc cref="TcpStream.TryPeek(Span{byte}, out int)"/>
    public bool TryPeek(Span<byte> buffer, out int bytesRead) =>
        _core.TryReceive(buffer, LibC.MSG_PEEK, out bytesRead, "peek at", this);

    /// <summary>Shuts down reading, writing or both; after <see cref="SocketShutdown.Send"/> the peer reads end of stream.</summary>
    /// <exception cref="SocketException">The kernel refused (e.g. not connected).</exception>
    public void Shutdown(SocketShutdown how) =>
        _core.Check(SocketCalls.Shutdown(_core.Live(this), how), $"shut down ({how}) the connection of", this);

    /// <summary>Reads and clears the pending error (<c>SO_ERROR</c>); <see cref="SocketError.Success"/> when there is none.</summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once; later calls do nothing) and removes it from its Poll.</summary>
    public void Dispose() => _core.Close();

    /// <summary>Returns e.g. <c>UnixStream(fd 9 -> /run/app.sock)</c>, or <c>UnixStream(disposed)</c>. Makes no system call.</summary>
    public override string ToString()
    {
        if (_core.IsDisposed)
        {
            return "UnixStream(disposed)";
        }

        return $"UnixStream(fd {_core.Fd} -> {_core.PeerName ?? "unnamed"})";
    }

    /// <summary>Remembers the peer's address (from accept or connect) for <see cref="ToString"/>.</summary>
    internal void RememberPeer(ReadOnlySpan<byte> address) => _core.SetPeer(address);

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    /// <summary>Checks that <paramref name="socket"/> is a Unix stream socket.</summary>
    internal static void ValidateUnixStream(Socket socket, string parameterName)
    {
        if (socket.AddressFamily != AddressFamily.Unix || socket.SocketType != SocketType.Stream)
        {
            throw new ArgumentException(
                $"Expected a Unix stream socket (AddressFamily.Unix, SocketType.Stream) but got {socket.AddressFamily}/{socket.SocketType}.",
                parameterName);
        }
    }

    /// <summary>
    /// <see cref="SocketCalls.Adopt"/> for a Unix socket, keeping the file of a path it was bound to: disposing a
    /// <see cref="Socket"/> deletes the path it bound, so the file is renamed aside while it is disposed.
    /// </summary>
    internal static FdHandle Adopt(Socket socket, string purpose)
    {
        string? path = socket.LocalEndPoint is UnixDomainSocketEndPoint local && local.ToString() is { Length: > 0 } text
            && !text.StartsWith('@') && File.Exists(text) ? text : null;
        if (path is null)
        {
            return SocketCalls.Adopt(socket, purpose);
        }

        string aside = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        File.Move(path, aside);
        try
        {
            return SocketCalls.Adopt(socket, purpose);
        }
        finally
        {
            File.Move(aside, path);
        }
    }

    private static UnixStream Connect(ReadOnlySpan<byte> address, string where)
    {
        FdHandle handle = SocketCalls.Create(AddressFamily.Unix, LibC.SOCK_STREAM, $"create a Unix socket to connect to {where}");
        try
        {
            int errno = SocketCalls.Connect(handle, address);
            if (errno == Errno.EAGAIN)
            {
                throw new SocketException((int)SocketError.WouldBlock,
                    $"connect a Unix stream to {where} failed: the listener's backlog is full (EAGAIN). Try again later, or raise the listener's backlog.");
            }

            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"connect a Unix stream to {where}");
            }

            var stream = new UnixStream(handle);
            stream.RememberPeer(address);
            return stream;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
