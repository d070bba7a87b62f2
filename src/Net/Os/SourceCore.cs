using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using Polling.Os;

namespace Polling.Net.Os;

/// <summary>
/// What every Polling.Net source has in common, held by composition (the public types are sealed):
/// the descriptor (<see cref="FdHandle"/>), its <see cref="Registration"/>, the <see cref="ISource"/>
/// plumbing, idempotent close, and the <c>Try…</c> policy — EAGAIN returns <see langword="false"/> after
/// <see cref="Registration.Rearm"/>, EINTR was retried by <see cref="SocketCalls"/>, any other errno throws
/// <see cref="SocketException"/> (or <see cref="IOException"/> for a non-socket such as a pipe).
/// </summary>
/// <remarks>
/// Keep it in a mutable (non-<see langword="readonly"/>) field of the owning source and call it in place;
/// copying it would copy the registration state. Pass the owner (<c>this</c>) so that messages name it.
/// </remarks>
internal struct SourceCore
{
    private readonly FdHandle _handle;
    private readonly bool _isSocket;
    private Registration _registration;
    private int _disposed;

    /// <summary>Takes ownership of <paramref name="handle"/>.</summary>
    /// <param name="handle">The open descriptor.</param>
    /// <param name="isSocket">Whether errors become <see cref="SocketException"/> (sockets) or <see cref="IOException"/> (pipes).</param>
    public SourceCore(FdHandle handle, bool isSocket = true)
    {
        _handle = handle;
        _isSocket = isSocket;
    }

    /// <summary>The owned descriptor handle.</summary>
    public readonly FdHandle Handle => _handle;

    /// <summary>The descriptor number, for messages (it is not reused while the handle is referenced).</summary>
    public readonly int Fd => _handle.Fd;

    /// <summary><see langword="true"/> once <see cref="Close"/> ran (or the handle was closed).</summary>
    public readonly bool IsDisposed => Volatile.Read(ref Unsafe.AsRef(in _disposed)) != 0 || _handle.IsClosed;

    /// <summary><see cref="ISource.Register"/>: validates, refuses a disposed source, then registers the descriptor.</summary>
    public void Register(Registry registry, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        FdHandle handle = Enter(owner, "register");
        try
        {
            _registration.Register(registry, handle.Fd, token, interest, trigger, owner);
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><see cref="ISource.Reregister"/>.</summary>
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        FdHandle handle = Enter(owner, "reregister");
        try
        {
            _registration.Reregister(registry, handle.Fd, token, interest, trigger, owner);
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><see cref="ISource.Deregister"/>.</summary>
    public void Deregister(Registry registry, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        FdHandle handle = Enter(owner, "deregister");
        try
        {
            _registration.Deregister(registry, handle.Fd, owner);
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>Tells the registry's backend that an operation for <paramref name="interest"/> would block.</summary>
    public readonly void Rearm(Interest interest) => _registration.Rearm(_handle.Fd, interest);

    /// <summary>
    /// Forgets the registration and closes the descriptor, once; returns <see langword="false"/> if it was
    /// already closed. A call running concurrently on another thread keeps the descriptor alive until it returns.
    /// </summary>
    public bool Close()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return false;
        }

        _registration.OnClose(_handle.Fd);
        _handle.Dispose();
        return true;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming <paramref name="owner"/> if closed.</summary>
    public readonly void ThrowIfDisposed(object owner)
    {
        if (IsDisposed)
        {
            throw Disposed(owner, "use");
        }
    }

    /// <summary>
    /// Applies the <c>Try…</c> policy to the errno of an I/O call: 0 → <see langword="true"/>; EAGAIN →
    /// rearm <paramref name="interest"/> and <see langword="false"/>; otherwise throw, naming
    /// <paramref name="action"/> (e.g. "read from") and the owner.
    /// </summary>
    public readonly bool Complete(int errno, Interest interest, string action, object owner)
    {
        if (errno == 0)
        {
            return true;
        }

        if (errno == SocketErrors.EAGAIN)
        {
            _registration.Rearm(_handle.Fd, interest);
            return false;
        }

        throw Failure(errno, $"{action} {owner}");
    }

    /// <summary>Throws for a failed non-I/O call (an option, shutdown, a name) unless <paramref name="errno"/> is 0.</summary>
    public readonly void Check(int errno, string action, object owner)
    {
        if (errno != 0)
        {
            throw Failure(errno, $"{action} {owner}");
        }
    }

    /// <summary>The exception for <paramref name="errno"/>: <see cref="SocketException"/> for sockets, <see cref="IOException"/> otherwise.</summary>
    public readonly Exception Failure(int errno, string operation) =>
        errno == SocketErrors.EBADF && IsDisposed
            ? new ObjectDisposedException(null, $"Cannot {operation}: it has been disposed.")
            : _isSocket ? SocketErrors.Exception(errno, operation) : Errno.ToIOException(errno, operation);

    /// <summary><c>recv</c> with the <c>Try…</c> policy (Readable).</summary>
    public readonly bool TryReceive(Span<byte> buffer, int flags, out int received, string action, object owner) =>
        Complete(SocketCalls.Receive(Live(owner), buffer, flags, out received), Interest.Readable, action, owner);

    /// <summary><c>send</c> (always <c>MSG_NOSIGNAL</c>) with the <c>Try…</c> policy (Writable).</summary>
    public readonly bool TrySend(ReadOnlySpan<byte> buffer, int flags, out int sent, string action, object owner) =>
        Complete(SocketCalls.Send(Live(owner), buffer, flags, out sent), Interest.Writable, action, owner);

    /// <summary>Vectored I/O with the <c>Try…</c> policy; the interest follows from the direction.</summary>
    public readonly bool TryVectored(SocketCalls.Vector kind, ReadOnlySpan<ArraySegment<byte>> buffers, out long transferred, string action, object owner)
    {
        Interest interest = kind is SocketCalls.Vector.Receive or SocketCalls.Vector.Read ? Interest.Readable : Interest.Writable;
        return Complete(SocketCalls.Vectored(Live(owner), kind, buffers, out transferred), interest, action, owner);
    }

    /// <summary>Reads and clears the pending error (<c>SO_ERROR</c>).</summary>
    public readonly SocketError TakeError(object owner)
    {
        Check(SocketCalls.TakeError(Live(owner), out int pending), "read the pending error (SO_ERROR) of", owner);
        return SocketErrors.ToSocketError(pending);
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

    /// <summary><c>IP_TTL</c> (IPv4) or <c>IPV6_UNICAST_HOPS</c> (IPv6).</summary>
    public readonly int GetTtl(AddressFamily family, object owner) => family == AddressFamily.InterNetworkV6
        ? GetOption(SocketCalls.IPPROTO_IPV6, SocketCalls.IPV6_UNICAST_HOPS, "the hop limit (IPV6_UNICAST_HOPS)", owner)
        : GetOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, "the time-to-live (IP_TTL)", owner);

    /// <summary>Sets <c>IP_TTL</c> (IPv4) or <c>IPV6_UNICAST_HOPS</c> (IPv6); 1..255.</summary>
    public readonly void SetTtl(AddressFamily family, int value, object owner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, "Ttl");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 255, "Ttl");
        if (family == AddressFamily.InterNetworkV6)
        {
            SetOption(SocketCalls.IPPROTO_IPV6, SocketCalls.IPV6_UNICAST_HOPS, value, "the hop limit (IPV6_UNICAST_HOPS)", owner);
        }
        else
        {
            SetOption(SocketCalls.IPPROTO_IP, SocketCalls.IP_TTL, value, "the time-to-live (IP_TTL)", owner);
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

    /// <summary>
    /// Like <see cref="GetIPEndPoint"/> but never throws: <see langword="null"/> when the socket is disposed,
    /// not connected or not an IP socket. For <c>ToString()</c> and error messages.
    /// </summary>
    public readonly EndPoint? TryGetEndPoint(bool peer)
    {
        if (IsDisposed)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        try
        {
            int errno = peer
                ? SocketCalls.GetPeerName(_handle, buffer, out int length)
                : SocketCalls.GetSocketName(_handle, buffer, out length);
            if (errno != 0)
            {
                return null;
            }

            ReadOnlySpan<byte> address = buffer[..length];
            return SockAddr.Family(address) == SockAddr.AF_UNIX ? SockAddr.ReadUnix(address) : SockAddr.ReadIP(address);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private readonly ReadOnlySpan<byte> GetName(bool peer, object owner, Span<byte> buffer)
    {
        FdHandle handle = Live(owner);
        int errno = peer
            ? SocketCalls.GetPeerName(handle, buffer, out int length)
            : SocketCalls.GetSocketName(handle, buffer, out length);
        if (errno == SocketErrors.ENOTCONN)
        {
            throw SocketErrors.NotConnected(owner.ToString() ?? "The socket");
        }

        Check(errno, peer ? "read the peer address (getpeername) of" : "read the local address (getsockname) of", owner);
        return buffer[..length];
    }

    /// <summary>The handle, or <see cref="ObjectDisposedException"/> naming the owner if it is closed.</summary>
    public readonly FdHandle Live(object owner) => IsDisposed ? throw Disposed(owner, "use") : _handle;

    private readonly FdHandle Enter(object owner, string action)
    {
        if (IsDisposed)
        {
            throw Disposed(owner, action);
        }

        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw Disposed(owner, action);
        }

        return _handle;
    }

    private static ObjectDisposedException Disposed(object owner, string action) =>
        new(owner.GetType().Name, $"Cannot {action} {owner}: it has been disposed. Create a new one.");
}
