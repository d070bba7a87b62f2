using System.Runtime.CompilerServices;
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
            ? new ObjectDisposedException(operation, $"Cannot {operation}: it has been disposed.")
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
