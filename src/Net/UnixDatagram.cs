using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking Unix-domain datagram socket that can be registered with a <see cref="Poll"/>: reliable,
/// ordered, message-preserving local IPC. Bound to a filesystem path or a Linux abstract name, unbound, or one
/// of a connected <see cref="Pair"/>. This is mio's <c>UnixDatagram</c>.
/// </summary>
/// <remarks>
/// <para><b>Addresses.</b> Paths are strings (at most 107 UTF-8 bytes; longer throws
/// <see cref="ArgumentException"/>) or <see cref="UnixDomainSocketEndPoint"/>s; a path that starts with
/// <c>'\0'</c> is an abstract name (no file). A socket that never bound is <i>unnamed</i>: its datagrams arrive
/// with an empty source path, and nobody can reply to it.</para>
/// <para><b>Unlinking policy</b> — the same as <see cref="UnixListener"/>: Polling never deletes files.
/// <see cref="Bind(string)"/> fails with <see cref="SocketException"/> (<see cref="SocketError.AddressAlreadyInUse"/>)
/// when the path exists, even for a stale socket file of a crashed run; delete it yourself when you know it is yours
/// (before binding, and after <see cref="Dispose"/>). Abstract names need no cleanup.</para>
/// <para><b>Flow control.</b> Unlike UDP, a Unix datagram is never dropped: when the receiver's queue is full,
/// sending returns <see langword="false"/> (EAGAIN). A connected socket (after <see cref="Connect(string)"/> or from
/// <see cref="Pair"/>) becomes writable again when the peer drains its queue; an unconnected one may not get a
/// writable event for that, so retry on your own schedule.</para>
/// <para>One call moves one whole datagram; a longer one is truncated to the receive buffer. An empty datagram
/// arrives as <see langword="true"/> with 0 bytes. There is no end of stream: when the peer closes, sending to it
/// fails with <see cref="SocketError.ConnectionRefused"/> and receiving simply finds nothing; only this socket's own
/// <c>Shutdown(Receive)</c> makes it report <see cref="Event.IsReadClosed"/>.</para>
/// <para>Non-blocking and close-on-exec from creation; <see cref="Dispose"/> is idempotent. Would-block is never an
/// exception; failures throw <see cref="SocketException"/>.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> matches the
/// errno, with a message naming the operation and the socket. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// string path = Path.Combine(Path.GetTempPath(), "app.dgram");
/// File.Delete(path);                                   // our own stale socket from a previous run, if any
/// using var server = UnixDatagram.Bind(path);
/// using var client = UnixDatagram.Unbound();
/// client.TrySendTo("ping"u8, path, out _);
///
/// using var poll = new Poll();
/// poll.Registry.Register(server, (Token)0, Interest.Readable);
/// var events = new Events(8);
/// poll.Wait(events);
/// var buffer = new byte[4096];
/// var sender = new SocketAddress(AddressFamily.Unix);
/// while (server.TryReceiveFrom(buffer, out int n, sender))
///     Console.WriteLine(Encoding.UTF8.GetString(buffer, 0, n));   // ping
/// server.Dispose();
/// File.Delete(path);
/// </code>
/// </example>
public sealed class UnixDatagram : ISource, IDisposable
{
    /// <summary><c>sizeof(struct sockaddr_un)</c>: what a <see cref="SocketAddress"/> must hold to receive any sender's address.</summary>
    private const int AddressSize = SockAddr.UnixPathOffset + SockAddr.UnixPathCapacity;

    private SocketCore _core;

    private UnixDatagram(FdHandle handle)
    {
        _core = new SocketCore(handle);
        _core.CaptureLocalName();
    }

    /// <summary>This socket's address: the bound path or abstract name, or an unnamed endpoint (empty path).</summary>
    public UnixDomainSocketEndPoint LocalEndPoint => _core.GetUnixEndPoint(peer: false, this);

    /// <summary>The peer set by <see cref="Connect(string)"/> (or the other end of a <see cref="Pair"/>, which is unnamed).</summary>
    /// <exception cref="SocketException"><see cref="SocketError.NotConnected"/> when not connected.</exception>
    public UnixDomainSocketEndPoint RemoteEndPoint => _core.GetUnixEndPoint(peer: true, this);

    /// <summary>
    /// The peer's process, user and group id (<c>SO_PEERCRED</c>). Linux records them for sockets made by
    /// <see cref="Pair"/>; for a datagram socket connected with <see cref="Connect(string)"/> it records none and
    /// reports process 0 and user/group <see cref="uint.MaxValue"/>. To learn who sent a datagram on an unconnected
    /// socket you need <c>SCM_CREDENTIALS</c>, which Polling does not wrap.
    /// </summary>
    public UnixCredentials PeerCredentials => _core.GetPeerCredentials(this);

    /// <summary>
    /// The socket descriptor, for your own system calls (e.g. passing descriptors with <c>SCM_RIGHTS</c>); bracket
    /// with <c>DangerousAddRef</c>/<c>DangerousRelease</c> if another thread may dispose the socket. The socket owns
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

    /// <summary>
    /// <c>SO_SNDBUF</c>, in bytes: for Unix datagrams it limits the bytes this socket may have queued at receivers,
    /// and the largest datagram it can send (Linux doubles the value you set and reports the doubled value).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value less than 1.</exception>
    public int SendBufferSize
    {
        get => _core.GetBufferSize(receive: false, this);
        set => _core.SetBufferSize(receive: false, value, this);
    }

    /// <summary>Creates a datagram socket bound to <paramref name="path"/> (which must not exist yet).</summary>
    /// <param name="path">A filesystem path (at most 107 UTF-8 bytes), or <c>"\0name"</c> for an abstract name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, contains a NUL, or is too long for <c>sun_path</c>.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressAlreadyInUse"/> if the path exists (Polling never
    /// deletes it for you), <see cref="SocketError.AccessDenied"/> without write access to the directory, ….</exception>
    public static UnixDatagram Bind(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, address);
        return Bind(address[..length], UnixListener.Describe(path));
    }

    /// <summary>Creates a datagram socket bound to <paramref name="endpoint"/> (a path that must not exist yet, or an abstract name).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="SocketException">As for <see cref="Bind(string)"/>.</exception>
    public static UnixDatagram Bind(UnixDomainSocketEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(endpoint, address);
        return Bind(address[..length], $"\"{endpoint}\"");
    }

    /// <summary>
    /// Creates an unbound (unnamed) datagram socket: it can send to bound sockets and <see cref="Connect(string)"/>,
    /// but nobody can address datagrams to it.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public static UnixDatagram Unbound() =>
        new(SocketCalls.Create(AddressFamily.Unix, LibC.SOCK_DGRAM, "create an unbound Unix datagram socket"));

    /// <summary>
    /// Two connected, unnamed datagram sockets (<c>socketpair</c>): what one sends the other receives. Both are
    /// non-blocking and close-on-exec; dispose both.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public static (UnixDatagram, UnixDatagram) Pair()
    {
        (FdHandle first, FdHandle second) = SocketCalls.CreatePair(LibC.SOCK_DGRAM, "create a Unix datagram pair (socketpair)");
        return (new UnixDatagram(first), new UnixDatagram(second));
    }

    /// <summary>
    /// Takes over a Unix datagram <see cref="Socket"/>: its descriptor is duplicated (close-on-exec) and made
    /// non-blocking, and <paramref name="socket"/> is disposed. A path it was bound to stays in place (disposing a
    /// <see cref="Socket"/> normally deletes it) and from then on the unlinking policy above applies.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">Not a Unix datagram socket. It is left untouched.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static UnixDatagram FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ObjectDisposedException.ThrowIf(socket.SafeHandle.IsClosed, socket);
        if (socket.AddressFamily != AddressFamily.Unix || socket.SocketType != SocketType.Dgram)
        {
            throw new ArgumentException(
                $"UnixDatagram.FromSocket needs a Unix datagram socket (AddressFamily.Unix, SocketType.Dgram) but got {socket.AddressFamily}/{socket.SocketType}: " +
                "use UdpSocket.FromSocket for UDP, UnixStream.FromSocket or UnixListener.FromSocket for Unix streams.",
                nameof(socket));
        }

        return new UnixDatagram(UnixStream.Adopt(socket, "take over a Unix datagram Socket"));
    }

    /// <summary>
    /// Sets the default peer (nothing is sent). Afterwards <see cref="TrySend"/>/<see cref="TryReceive"/> use it, and
    /// only the peer's datagrams are received. Calling it again switches to another peer.
    /// </summary>
    /// <param name="path">The peer's path, or <c>"\0name"</c> for an abstract name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or too long.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressNotAvailable"/> if no such path,
    /// <see cref="SocketError.ConnectionRefused"/> if no datagram socket is bound there, ….</exception>
    public void Connect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, address);
        Connect(address[..length], path);
    }

    /// <summary>As <see cref="Connect(string)"/>, for an endpoint.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="SocketException">As for <see cref="Connect(string)"/>.</exception>
    public void Connect(UnixDomainSocketEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(endpoint, address);
        Connect(address[..length], endpoint);
    }

    /// <summary>Sends one datagram to the socket bound at <paramref name="path"/>, without blocking. Allocates nothing.</summary>
    /// <param name="datagram">The payload; empty is allowed.</param>
    /// <param name="path">The receiver's path, or <c>"\0name"</c> for an abstract name.</param>
    /// <param name="bytesSent">The datagram's length when sent; 0 when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when the receiver's queue is full (EAGAIN).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or too long.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressNotAvailable"/> if no such path,
    /// <see cref="SocketError.ConnectionRefused"/> if nothing is bound there, <see cref="SocketError.MessageSize"/>
    /// for a datagram larger than <see cref="SendBufferSize"/> allows.</exception>
    public bool TrySendTo(ReadOnlySpan<byte> datagram, string path, out int bytesSent)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, address);
        return SendTo(datagram, address[..length], path, out bytesSent);
    }

    /// <summary>Sends one datagram to <paramref name="target"/>, without blocking.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="SocketException">As for <see cref="TrySendTo(ReadOnlySpan{byte}, string, out int)"/>.</exception>
    public bool TrySendTo(ReadOnlySpan<byte> datagram, UnixDomainSocketEndPoint target, out int bytesSent)
    {
        ArgumentNullException.ThrowIfNull(target);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(target, address);
        return SendTo(datagram, address[..length], target, out bytesSent);
    }

    /// <summary>
    /// Sends one datagram to the address in <paramref name="target"/> (e.g. filled by
    /// <see cref="TryReceiveFrom(Span{byte}, out int, SocketAddress)"/>), without blocking or allocating.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="SocketException">As for <see cref="TrySendTo(ReadOnlySpan{byte}, string, out int)"/>; an unnamed
    /// sender's address cannot be replied to (<see cref="SocketError.InvalidArgument"/>).</exception>
    public bool TrySendTo(ReadOnlySpan<byte> datagram, SocketAddress target, out int bytesSent)
    {
        ArgumentNullException.ThrowIfNull(target);
        return SendTo(datagram, target.Buffer.Span[..target.Size], target, out bytesSent);
    }

    /// <summary>
    /// Receives one datagram and its sender without blocking. Allocates the <paramref name="source"/> endpoint; use
    /// <see cref="TryReceiveFrom(Span{byte}, out int, SocketAddress)"/> to allocate nothing.
    /// </summary>
    /// <param name="buffer">Where to put the payload; a longer datagram is truncated to it.</param>
    /// <param name="bytesReceived">The payload length.</param>
    /// <param name="source">The sender's path or abstract name (an empty path for an unnamed sender), or
    /// <see langword="null"/> when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when no datagram is queued (EAGAIN).</returns>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryReceiveFrom(Span<byte> buffer, out int bytesReceived, [MaybeNullWhen(false)] out UnixDomainSocketEndPoint source) =>
        ReceiveFrom(buffer, 0, out bytesReceived, out source, "receive a datagram on");

    /// <summary>
    /// Receives one datagram without blocking and writes its sender into <paramref name="source"/>, a
    /// <see cref="SocketAddress"/> you own and reuse (<c>new SocketAddress(AddressFamily.Unix)</c>): allocates
    /// nothing. An unnamed sender leaves it with <see cref="SocketAddress.Size"/> 2 (just the family).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> holds fewer than 110 bytes.</exception>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryReceiveFrom(Span<byte> buffer, out int bytesReceived, SocketAddress source) =>
        ReceiveFrom(buffer, 0, out bytesReceived, source, "receive a datagram on");

    /// <summary>Like <see cref="TryReceiveFrom(Span{byte}, out int, out UnixDomainSocketEndPoint)"/>, but leaves the datagram queued (<c>MSG_PEEK</c>).</summary>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryPeekFrom(Span<byte> buffer, out int bytesReceived, [MaybeNullWhen(false)] out UnixDomainSocketEndPoint source) =>
        ReceiveFrom(buffer, LibC.MSG_PEEK, out bytesReceived, out source, "peek at a datagram on");

    /// <summary>Sends one datagram to the connected peer, without blocking. Allocates nothing.</summary>
    /// <param name="datagram">The payload; empty is allowed.</param>
    /// <param name="bytesSent">The datagram's length when sent; 0 when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when the peer's queue is full (EAGAIN): wait for a writable event.</returns>
    /// <exception cref="SocketException"><see cref="SocketError.NotConnected"/> when not connected,
    /// <see cref="SocketError.Shutdown"/> after <c>Shutdown(Send)</c> (EPIPE), <see cref="SocketError.ConnectionRefused"/>
    /// when the peer is gone.</exception>
    public bool TrySend(ReadOnlySpan<byte> datagram, out int bytesSent) =>
        _core.TrySend(datagram, 0, out bytesSent, "send a datagram from", this);

    /// <summary>
    /// Receives one datagram without blocking. Allocates nothing. <see langword="true"/> with 0 bytes is an empty
    /// datagram (there is no end of stream on a datagram socket).
    /// </summary>
    /// <returns><see langword="false"/> when no datagram is queued (EAGAIN).</returns>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryReceive(Span<byte> buffer, out int bytesReceived) =>
        _core.TryReceive(buffer, 0, out bytesReceived, "receive a datagram on", this);

    /// <summary>Like <see cref="TryReceive"/>, but leaves the datagram queued (<c>MSG_PEEK</c>).</summary>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryPeek(Span<byte> buffer, out int bytesReceived) =>
        _core.TryReceive(buffer, LibC.MSG_PEEK, out bytesReceived, "peek at a datagram on", this);

    /// <summary>
    /// Shuts down receiving, sending or both on this socket (the peer is not told — datagram sockets have no
    /// connection to close): after <see cref="SocketShutdown.Send"/>, sending fails with <see cref="SocketError.Shutdown"/>
    /// and the socket reports <see cref="Event.IsWriteClosed"/>; after <see cref="SocketShutdown.Receive"/>, it reports
    /// <see cref="Event.IsReadClosed"/> (receiving still returns what was queued, then <see langword="false"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="how"/> is not a <see cref="SocketShutdown"/> value.</exception>
    public void Shutdown(SocketShutdown how) =>
        _core.Check(SocketCalls.Shutdown(_core.Live(this), how), $"shut down ({how}) of", this);

    /// <summary>Reads and clears the pending error (<c>SO_ERROR</c>); <see cref="SocketError.Success"/> when there is none.</summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once; later calls do nothing) and removes it from its Poll. A socket file stays: delete it yourself.</summary>
    public void Dispose() => _core.Close();

    /// <summary>
    /// Returns e.g. <c>UnixDatagram(fd 9, /run/app.dgram)</c>, <c>UnixDatagram(fd 9, unnamed)</c>, or
    /// <c>UnixDatagram(disposed)</c>: the name it had when it was created (no system call).
    /// </summary>
    public override string ToString()
    {
        if (_core.IsDisposed)
        {
            return "UnixDatagram(disposed)";
        }

        return $"UnixDatagram(fd {_core.Fd}, {_core.LocalName ?? "unnamed"})";
    }

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    private static UnixDatagram Bind(ReadOnlySpan<byte> address, string where)
    {
        FdHandle handle = SocketCalls.Create(AddressFamily.Unix, LibC.SOCK_DGRAM, $"create a Unix datagram socket to bind to {where}");
        try
        {
            int errno = SocketCalls.Bind(handle, address);
            if (errno == Errno.EADDRINUSE)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse,
                    $"bind a Unix datagram socket to {where} failed: the address is already in use. If it is a path, a file exists there — " +
                    "another program is bound to it, or a stale socket file was left by an earlier run. Polling never deletes files for you: " +
                    "delete it (File.Delete) if you know it is yours, or choose another path.");
            }

            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"bind a Unix datagram socket to {where}");
            }

            return new UnixDatagram(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private void Connect(ReadOnlySpan<byte> address, object target)
    {
        int errno = SocketCalls.Connect(_core.Live(this), address);
        if (errno != 0)
        {
            throw _core.Failure(errno, $"connect {this} to {Describe(target)}");
        }
    }

    private bool SendTo(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> address, object target, out int bytesSent)
    {
        return _core.TrySendTo(datagram, address, out bytesSent, "send a datagram from", this, target);
    }

    private bool ReceiveFrom(Span<byte> buffer, int flags, out int bytesReceived, [MaybeNullWhen(false)] out UnixDomainSocketEndPoint source, string action)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryReceiveFrom(buffer, flags, address, out int length, out bytesReceived, action, this))
        {
            source = null;
            return false;
        }

        source = SockAddr.ReadUnix(address[..length]);
        return true;
    }

    private bool ReceiveFrom(Span<byte> buffer, int flags, out int bytesReceived, SocketAddress source, string action)
    {
        if (!_core.TryReceiveFrom(buffer, flags, source, AddressSize, "new SocketAddress(AddressFamily.Unix)", out bytesReceived, action, this))
        {
            return false;
        }

        if (source.Size < SockAddr.UnixPathOffset)
        {
            // An unnamed sender: the kernel wrote no address at all.
            BitConverter.TryWriteBytes(source.Buffer.Span, SockAddr.AF_UNIX);
            source.Size = SockAddr.UnixPathOffset;
        }

        return true;
    }

    private static string Describe(object target) => target is string path ? UnixListener.Describe(path) : $"\"{target}\"";
}
