using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Polling.Os;

namespace Polling;

/// <summary>
/// The one core under every descriptor-backed source, in both assemblies (mio's <c>IoSource</c>): it owns the
/// descriptor (<see cref="FdHandle"/>), its <see cref="Registration"/> and the disposed state, and it is the only
/// way to move bytes: every read and write goes through <see cref="Completed"/> (<see cref="Registration.Complete"/>),
/// so a would-block always reaches an edge-emulating backend (poll(2)) and no source can forget to rearm.
/// </summary>
/// <remarks>
/// <para><b>Using it.</b> A public source is a thin wrapper that keeps one <see cref="IoSource"/> in a mutable
/// (non-<see langword="readonly"/>) field and calls it in place (a copy would copy the registration state); it
/// passes itself as <c>owner</c> so that messages name it. <see cref="ISource"/>'s three methods forward to
/// <see cref="Register"/>, <see cref="Reregister"/> and <see cref="Deregister"/>; <c>Dispose</c> forwards to
/// <see cref="Close"/>.</para>
/// <para><b>The rearm rule.</b> An I/O call's errno goes through <see cref="Completed"/> (or <see cref="Complete"/>):
/// would-block rearms that direction, a failure rearms every direction, success costs one comparison. A state
/// change that makes the source ready without an I/O call (re-arming a timer, writing an eventfd, reading
/// <c>SO_ERROR</c>) calls <see cref="Rearm"/>. Polling.Net's <c>SocketCore</c> adds the socket calls on top.</para>
/// <para><b>Races with Dispose.</b> Every call holds a reference on the handle for its system call (the marshaller
/// takes it), so a concurrent <see cref="Close"/> never lets a call touch a reused descriptor number; a call on a
/// closed source throws <see cref="ObjectDisposedException"/> naming the owner.</para>
/// </remarks>
internal partial struct IoSource
{
    private readonly FdHandle _handle;
    private Registration _registration;
    private int _disposed;

    /// <summary>Takes ownership of <paramref name="handle"/>.</summary>
    public IoSource(FdHandle handle)
    {
        Debug.Assert(!handle.IsInvalid, "An IoSource owns an open descriptor.");
        _handle = handle;
    }

    /// <summary>The owned descriptor handle.</summary>
    public readonly FdHandle Handle => _handle;

    /// <summary>The descriptor number, for messages (not reused while the handle is open).</summary>
    public readonly int Fd => _handle.Fd;

    /// <summary><see langword="true"/> once <see cref="Close"/> ran (or the handle was closed).</summary>
    public readonly bool IsDisposed => Volatile.Read(ref Unsafe.AsRef(in _disposed)) != 0 || _handle.IsClosed;

    /// <summary><see langword="true"/> while registered with a Poll that is not disposed.</summary>
    public readonly bool IsRegistered => _registration.Registry is { IsDisposed: false };

    /// <summary><see cref="ISource.Register"/>: refuses a disposed source, then registers the descriptor, held open for the call.</summary>
    /// <exception cref="ObjectDisposedException">The owner is disposed (before or during the call).</exception>
    public void Register(Registry registry, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (!_registration.Register(registry, _handle, ref _disposed, token, interest, trigger, owner))
        {
            throw Disposed(owner, "register");
        }
    }

    /// <summary><see cref="ISource.Reregister"/>.</summary>
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (!_registration.Reregister(registry, _handle, ref _disposed, token, interest, trigger, owner))
        {
            throw Disposed(owner, "reregister");
        }
    }

    /// <summary><see cref="ISource.Deregister"/>.</summary>
    public void Deregister(Registry registry, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (!_registration.Deregister(registry, _handle, ref _disposed, owner))
        {
            throw Disposed(owner, "deregister");
        }
    }

    /// <summary>
    /// Forgets the registration and closes the descriptor, once; returns <see langword="false"/> if it was already
    /// closed. A call running concurrently on another thread keeps the descriptor open until it returns.
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

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming <paramref name="owner"/> once closed.</summary>
    public readonly void ThrowIfDisposed(object owner, string action = "use")
    {
        if (IsDisposed)
        {
            throw Disposed(owner, action);
        }
    }

    /// <summary>The handle, or <see cref="ObjectDisposedException"/> naming the owner once closed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly FdHandle Live(object owner, string action = "use") => IsDisposed ? throw Disposed(owner, action) : _handle;

    /// <summary>Tells the backend the outcome of an I/O call (<see cref="Registration.Complete"/>); see the rearm rule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly IoOutcome Complete(int errno, Interest interest, bool drains = false)
    {
        Debug.Assert(errno != Errno.EINTR, "the calls retry EINTR before their errno reaches the backend");
        Debug.Assert(interest != 0 && (interest & ~Registration.AllInterests) == 0, "an I/O call names the direction it moved");
        return _registration.Complete(_handle.Fd, errno, interest, drains);
    }

    /// <summary>
    /// <see cref="Complete"/>, then 0 → <see langword="true"/>; EAGAIN → <see langword="false"/>; any other errno throws
    /// <see cref="Failure"/> naming <paramref name="action"/> and the owner. Nothing is formatted unless it throws.
    /// </summary>
    public readonly bool Completed(int errno, Interest interest, string action, object owner, bool drains = false) =>
        Complete(errno, interest, drains) switch
        {
            IoOutcome.Done => true,
            IoOutcome.WouldBlock => false,
            _ => throw Failure(errno, $"{action} {owner}"),
        };

    /// <summary>The source became ready without an I/O call: an edge-emulating backend rearms <paramref name="interest"/>.</summary>
    public readonly void Rearm(Interest interest)
    {
        Debug.Assert(interest != 0, "a rearm names the directions that became ready");
        _registration.Rearm(_handle.Fd, interest);
    }

    /// <summary>
    /// The exception for a failed call on a descriptor that is not a socket: <see cref="ObjectDisposedException"/> if
    /// a concurrent Dispose closed it (EBADF), a pipe's EPIPE explained, otherwise <see cref="IOException"/> (HResult = errno).
    /// </summary>
    public readonly Exception Failure(int errno, string operation) =>
        errno == Errno.EBADF && IsDisposed ? new ObjectDisposedException(null, $"Cannot {operation}: it has been disposed.")
        : errno == Errno.EPIPE ? new IOException(
            $"Cannot {operation}: the pipe's reading end is closed ({Errno.Describe(errno)}). Nothing written can be read any more; stop writing and dispose this sender.",
            errno)
        : Errno.ToIOException(errno, operation);

    /// <summary><c>read</c> (Readable); <paramref name="drains"/> when one read takes everything (an eventfd or timerfd counter).</summary>
    public readonly bool TryRead(Span<byte> buffer, out int read, string action, object owner, bool drains = false) =>
        Completed(Calls.Read(Live(owner), buffer, out read), Interest.Readable, action, owner, drains);

    /// <summary><c>write</c> (Writable; the runtime ignores SIGPIPE, so a closed pipe reader gives EPIPE).</summary>
    public readonly bool TryWrite(ReadOnlySpan<byte> buffer, out int written, string action, object owner) =>
        Completed(Calls.Write(Live(owner), buffer, out written), Interest.Writable, action, owner);

    /// <summary>
    /// Reads an 8-byte counter (eventfd, timerfd), which takes everything there is, so it counts as drained for the
    /// backend whatever the outcome.
    /// </summary>
    public readonly bool TryReadCounter(out ulong value, string action, object owner)
    {
        value = 0;
        return TryRead(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)), out _, action, owner, drains: true);
    }

    /// <summary><c>readv</c>/<c>writev</c> (see <see cref="IoVectors"/> for the caps); the interest follows from the direction.</summary>
    public readonly bool TryVectored(VectorCall kind, ReadOnlySpan<ArraySegment<byte>> buffers, out int transferred, string action, object owner)
    {
        Interest interest = kind.IsRead() ? Interest.Readable : Interest.Writable;
        bool done = Completed(IoVectors.Transfer(Live(owner), kind, buffers, out long moved), interest, action, owner);
        transferred = (int)moved;   // at most int.MaxValue: IoVectors caps what it offers the kernel
        return done;
    }

    /// <summary>The exception for a call on a disposed source, naming the owner and what was attempted.</summary>
    public static ObjectDisposedException Disposed(object owner, string action) =>
        new(owner.GetType().Name, $"Cannot {action} {owner}: it has been disposed. Create a new {owner.GetType().Name}.");
}
