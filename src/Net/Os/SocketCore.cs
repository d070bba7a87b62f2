using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using Polling.Os;

namespace Polling.Net.Os;

/// <summary>
/// The socket layer over <see cref="IoSource"/>, held by composition by every Polling.Net socket type (the public
/// types are sealed): the <see cref="IoSource"/> owns the descriptor, the registration and the disposed state;
/// this adds the socket calls, each a <c>Try…</c> method whose raw system call is private to this type
/// (<see cref="Calls"/>) and whose errno passes through <see cref="Complete"/> — would-block returns
/// <see langword="false"/>, EINTR was retried, any other errno throws <see cref="SocketException"/> — plus
/// options, names and <c>SO_ERROR</c>.
/// </summary>
/// <remarks>
/// <para>Keep it in a mutable (non-<see langword="readonly"/>) field of the owning source and call it in place;
/// copying it would copy the registration state. Pass the owner (<c>this</c>) so that messages name it.</para>
/// <para><b>Names for messages.</b> <c>ToString()</c> and error messages must work when descriptors are exhausted,
/// so they make no system call: the source's own address is captured once when it is created
/// (<see cref="CaptureLocalName"/>) and the peer's from the accept or connect that made it (<see cref="SetPeer(ReadOnlySpan{byte})"/>),
/// kept as raw bytes so that an accept allocates nothing more.</para>
/// </remarks>
internal partial struct SocketCore
{
    private IoSource _io;
    private string? _localName;
    private string? _peerName;
    private AddressBytes _peer;
    private byte _peerLength;

    /// <summary>Takes ownership of <paramref name="handle"/>, an open socket.</summary>
    public SocketCore(FdHandle handle)
    {
        _io = new IoSource(handle);
    }

    /// <summary>The owned descriptor handle.</summary>
    public readonly FdHandle Handle => _io.Handle;

    /// <summary>The descriptor number, for messages (it is not reused while the handle is referenced).</summary>
    public readonly int Fd => _io.Fd;

    /// <summary><see langword="true"/> once <see cref="Close"/> ran (or the handle was closed).</summary>
    public readonly bool IsDisposed => _io.IsDisposed;

    /// <summary><see cref="ISource.Register"/> (<see cref="IoSource.Register"/>).</summary>
    public void Register(Registry registry, Token token, Interest interest, Trigger trigger, object owner) =>
        _io.Register(registry, token, interest, trigger, owner);

    /// <summary><see cref="ISource.Reregister"/>.</summary>
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger, object owner) =>
        _io.Reregister(registry, token, interest, trigger, owner);

    /// <summary><see cref="ISource.Deregister"/>.</summary>
    public void Deregister(Registry registry, object owner) => _io.Deregister(registry, owner);

    /// <summary>Forgets the registration and closes the socket, once (<see cref="IoSource.Close"/>).</summary>
    public bool Close() => _io.Close();

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming <paramref name="owner"/> if closed.</summary>
    public readonly void ThrowIfDisposed(object owner) => _io.ThrowIfDisposed(owner);

    /// <summary>The handle, or <see cref="ObjectDisposedException"/> naming the owner if it is closed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FdHandle Live(object owner) => _io.Live(owner);

    /// <summary>
    /// The one path every socket I/O call takes: tells the backend the outcome (<see cref="IoSource.Complete"/>), then
    /// 0 → <see langword="true"/>; EAGAIN → <see langword="false"/>; otherwise throws, naming <paramref name="action"/>
    /// (e.g. "read from"), the owner and, if given, <paramref name="target"/> (e.g. a datagram's destination; a
    /// <see langword="string"/> is a Unix path and is quoted). Nothing is formatted unless it throws.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Complete(int errno, Interest interest, string action, object owner, object? target = null) =>
        _io.Complete(errno, interest) switch
        {
            IoOutcome.Done => true,
            IoOutcome.WouldBlock => false,
            _ => throw IoFailure(errno, action, owner, target),
        };

    /// <summary>
    /// <see cref="Failure"/> for a failed I/O call, its message formatted here: kept out of line so that the callers'
    /// success path does not set up (and zero) the string-formatting state of the failure path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly Exception IoFailure(int errno, string action, object owner, object? target = null) =>
        Failure(errno, target switch
        {
            null => $"{action} {owner}",
            string path => $"{action} {owner} to {UnixListener.Describe(path)}",
            _ => $"{action} {owner} to {target}",
        });

    /// <summary>Throws for a failed non-I/O call (an option, shutdown, a name) unless <paramref name="errno"/> is 0.</summary>
    public readonly void Check(int errno, string action, object owner)
    {
        if (errno != 0)
        {
            throw Failure(errno, $"{action} {owner}");
        }
    }

    /// <summary>The exception for <paramref name="errno"/>: <see cref="SocketException"/>, or <see cref="ObjectDisposedException"/> if a concurrent Dispose closed the socket.</summary>
    public readonly Exception Failure(int errno, string operation) =>
        errno == Errno.EBADF && IsDisposed ? new ObjectDisposedException(null, $"Cannot {operation}: it has been disposed.")
        : SocketErrors.Exception(errno, operation);

    /// <summary><c>recv</c> (Readable).</summary>
    public readonly bool TryReceive(Span<byte> buffer, int flags, out int received, string action, object owner) =>
        Complete(Calls.Receive(Live(owner), buffer, flags, out received), Interest.Readable, action, owner);

    /// <summary><c>send</c> (always <c>MSG_NOSIGNAL</c>; Writable).</summary>
    public readonly bool TrySend(ReadOnlySpan<byte> buffer, int flags, out int sent, string action, object owner) =>
        Complete(Calls.Send(Live(owner), buffer, flags, out sent), Interest.Writable, action, owner);

    /// <summary><c>recvfrom</c> (Readable): one datagram and its sender's address into <paramref name="address"/>.</summary>
    public readonly bool TryReceiveFrom(Span<byte> buffer, int flags, Span<byte> address, out int addressLength, out int received, string action, object owner) =>
        Complete(Calls.ReceiveFrom(Live(owner), buffer, flags, address, out addressLength, out received), Interest.Readable, action, owner);

    /// <summary>
    /// <c>recvfrom</c> (Readable) into a caller-owned <see cref="SocketAddress"/>, which is reused and allocates nothing:
    /// it must hold at least <paramref name="addressSize"/> bytes (else <see cref="ArgumentException"/> telling to create it
    /// with <paramref name="howToCreate"/>); its <see cref="SocketAddress.Size"/> becomes what the kernel wrote.
    /// </summary>
    public readonly bool TryReceiveFrom(Span<byte> buffer, int flags, SocketAddress source, int addressSize, string howToCreate, out int received, string action, object owner)
    {
        ArgumentNullException.ThrowIfNull(source);
        Span<byte> address = source.Buffer.Span;
        if (address.Length < addressSize)
        {
            throw new ArgumentException(
                $"The SocketAddress holds {address.Length} bytes, too few for the addresses of {owner} ({addressSize}): create it with {howToCreate}.",
                nameof(source));
        }

        if (!TryReceiveFrom(buffer, flags, address, out int length, out received, action, owner))
        {
            return false;
        }

        source.Size = length;
        return true;
    }

    /// <summary><c>sendto</c> (Writable); a failure names <paramref name="target"/>; an empty <paramref name="address"/> sends to the connected peer.</summary>
    public readonly bool TrySendTo(ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> address, out int sent, string action, object owner, object? target) =>
        Complete(Calls.SendTo(Live(owner), buffer, 0, address, out sent), Interest.Writable, action, owner, target);

    /// <summary>Vectored I/O (see <see cref="IoVectors.Transfer"/> for the caps); the interest follows from the direction.</summary>
    public readonly bool TryVectored(VectorCall kind, ReadOnlySpan<ArraySegment<byte>> buffers, out int transferred, string action, object owner)
    {
        Interest interest = kind.IsRead() ? Interest.Readable : Interest.Writable;
        bool done = Complete(IoVectors.Transfer(Live(owner), kind, buffers, out long moved), interest, action, owner);
        transferred = (int)moved;   // at most int.MaxValue: Vectored caps what it offers the kernel
        return done;
    }

    /// <summary><c>accept4</c> (Readable): the new connection, and the peer's address into <paramref name="address"/>.</summary>
    public readonly bool TryAccept(Span<byte> address, out int addressLength, out FdHandle? accepted, object owner) =>
        Complete(Calls.Accept(Live(owner), address, out addressLength, out accepted), Interest.Readable, "accept a connection on", owner);

    /// <summary>
    /// Reads and clears the pending error (<c>SO_ERROR</c>). That can make the source ready in ways it was not
    /// (a pending error hides other readiness from poll(2)), so it counts as new readiness for the backend.
    /// </summary>
    public readonly SocketError TakeError(object owner)
    {
        Check(SocketCalls.TakeError(Live(owner), out int pending), "read the pending error (SO_ERROR) of", owner);
        _io.Rearm(Registration.AllInterests);
        return SocketErrors.ToSocketError(pending);
    }

    /// <summary>
    /// <see cref="TakeError"/> that returns the raw errno (0: none), for <c>TryFinishConnect</c>, whose exception
    /// names it. Rearms every direction just as <see cref="TakeError"/> does.
    /// </summary>
    public readonly int TakePendingErrno(object owner)
    {
        Check(SocketCalls.TakeError(Live(owner), out int pending), "read the pending error (SO_ERROR) of", owner);
        _io.Rearm(Registration.AllInterests);
        return pending;
    }

    /// <summary>Reads an <c>int</c> socket option, throwing on failure.</summary>
    public readonly int GetOption(int level, int name, string what, object owner)
    {
        Check(SocketCalls.GetOption(Live(owner), level, name, out int value), $"read {what} of", owner);
        return value;
    }

    /// <summary>Sets an <c>int</c> socket option, throwing on failure.</summary>
    public readonly void SetOption(int level, int name, int value, string what, object owner) =>
        Check(SocketCalls.SetOption(Live(owner), level, name, value), $"set {what} to {value} on", owner);

    /// <summary>Reads a boolean (<c>int</c> 0/1) socket option.</summary>
    public readonly bool GetFlag(int level, int name, string what, object owner) => GetOption(level, name, what, owner) != 0;

    /// <summary>Sets a boolean (<c>int</c> 0/1) socket option.</summary>
    public readonly void SetFlag(int level, int name, bool value, string what, object owner) =>
        SetOption(level, name, value ? 1 : 0, what, owner);

    /// <summary><c>SO_RCVBUF</c> (<paramref name="receive"/>) or <c>SO_SNDBUF</c>, in bytes (Linux reports twice what was set).</summary>
    public readonly int GetBufferSize(bool receive, object owner) => receive
        ? GetOption(LibC.SOL_SOCKET, LibC.SO_RCVBUF, "the receive buffer size (SO_RCVBUF)", owner)
        : GetOption(LibC.SOL_SOCKET, LibC.SO_SNDBUF, "the send buffer size (SO_SNDBUF)", owner);

    /// <summary>Sets <c>SO_RCVBUF</c> or <c>SO_SNDBUF</c>; at least 1 (<see cref="ArgumentOutOfRangeException"/> names the property).</summary>
    public readonly void SetBufferSize(bool receive, int value, object owner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, receive ? "ReceiveBufferSize" : "SendBufferSize");
        if (receive)
        {
            SetOption(LibC.SOL_SOCKET, LibC.SO_RCVBUF, value, "the receive buffer size (SO_RCVBUF)", owner);
        }
        else
        {
            SetOption(LibC.SOL_SOCKET, LibC.SO_SNDBUF, value, "the send buffer size (SO_SNDBUF)", owner);
        }
    }

    /// <summary><c>SO_PEERCRED</c> of a Unix socket: the peer's process, user and group as of connecting.</summary>
    public readonly UnixCredentials GetPeerCredentials(object owner)
    {
        Check(SocketCalls.GetPeerCredentials(Live(owner), out int pid, out uint uid, out uint gid), "read the peer credentials (SO_PEERCRED) of", owner);
        return new UnixCredentials(pid, uid, gid);
    }

    /// <summary><c>IP_TTL</c> (IPv4) or <c>IPV6_UNICAST_HOPS</c> (IPv6).</summary>
    public readonly int GetTtl(AddressFamily family, object owner) => family == AddressFamily.InterNetworkV6
        ? GetOption(LibC.IPPROTO_IPV6, LibC.IPV6_UNICAST_HOPS, "the hop limit (IPV6_UNICAST_HOPS)", owner)
        : GetOption(LibC.IPPROTO_IP, LibC.IP_TTL, "the time-to-live (IP_TTL)", owner);

    /// <summary>Sets <c>IP_TTL</c> (IPv4) or <c>IPV6_UNICAST_HOPS</c> (IPv6); 1..255.</summary>
    public readonly void SetTtl(AddressFamily family, int value, object owner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, "Ttl");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 255, "Ttl");
        if (family == AddressFamily.InterNetworkV6)
        {
            SetOption(LibC.IPPROTO_IPV6, LibC.IPV6_UNICAST_HOPS, value, "the hop limit (IPV6_UNICAST_HOPS)", owner);
        }
        else
        {
            SetOption(LibC.IPPROTO_IP, LibC.IP_TTL, value, "the time-to-live (IP_TTL)", owner);
        }
    }

    /// <summary>
    /// The socket's own (<paramref name="peer"/> = <see langword="false"/>) or peer address as an
    /// <see cref="IPEndPoint"/>; the peer address of an unconnected socket throws
    /// <see cref="SocketException"/> with <see cref="SocketError.NotConnected"/>.
    /// </summary>
    public readonly IPEndPoint GetIPEndPoint(bool peer, object owner) => SockAddr.ReadIP(GetName(peer, owner, stackalloc byte[SockAddr.StorageSize]));

    /// <summary>As <see cref="GetIPEndPoint"/>, for a Unix socket.</summary>
    public readonly UnixDomainSocketEndPoint GetUnixEndPoint(bool peer, object owner) => SockAddr.ReadUnix(GetName(peer, owner, stackalloc byte[SockAddr.StorageSize]));

    /// <summary>The source's own address as captured by <see cref="CaptureLocalName"/>, or <see langword="null"/>; no system call.</summary>
    public readonly string? LocalName => _localName;

    /// <summary>The peer's address as given to <see cref="SetPeer(ReadOnlySpan{byte})"/> or <see cref="CapturePeerName"/>, or <see langword="null"/>; no system call.</summary>
    public readonly string? PeerName
    {
        get
        {
            if (_peerName is not null || _peerLength == 0)
            {
                return _peerName;
            }

            try
            {
                return SockAddr.ReadIP(((ReadOnlySpan<byte>)_peer)[.._peerLength]).ToString();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Remembers the peer's address from the bytes an accept or connect used: an IP address is copied (no
    /// allocation); a Unix one becomes its path ("unnamed" for an unbound peer, which allocates nothing).
    /// </summary>
    public void SetPeer(ReadOnlySpan<byte> address)
    {
        if (address.Length < sizeof(ushort))
        {
            return;
        }

        if (SockAddr.Family(address) == SockAddr.AF_UNIX)
        {
            _peerName = address.Length <= SockAddr.UnixPathOffset ? "unnamed" : Named(SockAddr.ReadUnix(address).ToString());
        }
        else if (address.Length <= AddressBytes.Size)
        {
            address.CopyTo(_peer);
            _peerLength = (byte)address.Length;
        }
    }

    /// <summary>Remembers the peer's name given as text (e.g. the path a Unix stream connected to).</summary>
    public void SetPeer(string name) => _peerName = name;

    /// <summary>Captures the source's own address now (one <c>getsockname</c>), for <see cref="LocalName"/>; call it once the socket is bound.</summary>
    public void CaptureLocalName() => _localName = ReadName(peer: false);

    /// <summary>Captures the peer's address now (one <c>getpeername</c>; nothing when not connected), for <see cref="PeerName"/>.</summary>
    public void CapturePeerName() => _peerName = ReadName(peer: true);

    private readonly string? ReadName(bool peer)
    {
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int errno = peer
            ? SocketCalls.GetPeerName(_io.Handle, buffer, out int length)
            : SocketCalls.GetSocketName(_io.Handle, buffer, out length);
        if (errno != 0)
        {
            return null;
        }

        ReadOnlySpan<byte> address = buffer[..length];
        try
        {
            return SockAddr.Family(address) == SockAddr.AF_UNIX ? Named(SockAddr.ReadUnix(address).ToString()) : SockAddr.ReadIP(address).ToString();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string Named(string path) => path.Length == 0 ? "unnamed" : path;

    private readonly ReadOnlySpan<byte> GetName(bool peer, object owner, Span<byte> buffer)
    {
        FdHandle handle = Live(owner);
        int errno = peer
            ? SocketCalls.GetPeerName(handle, buffer, out int length)
            : SocketCalls.GetSocketName(handle, buffer, out length);
        if (errno == Errno.ENOTCONN)
        {
            throw SocketErrors.NotConnected(owner.ToString() ?? "The socket");
        }

        Check(errno, peer ? "read the peer address (getpeername) of" : "read the local address (getsockname) of", owner);
        return buffer[..length];
    }
}

/// <summary>Room for an IPv4 or IPv6 socket address (<c>sockaddr_in6</c>, 28 bytes), inline in the source.</summary>
[InlineArray(Size)]
internal struct AddressBytes
{
    public const int Size = SockAddr.SizeOfIn6;

    private byte _first;
}
