using System.Runtime.CompilerServices;
using Polling.Os;

namespace Polling;

/// <summary>
/// Tracks which <see cref="Registry"/> one of Polling's own sources is registered with, so that
/// registering twice, registering with a second Poll, or re-/deregistering an unregistered source
/// fails with a clear <see cref="InvalidOperationException"/> before the kernel is asked.
/// Keep it as a mutable field of the owning source (never copy it) and pass the owner for messages.
/// Lock-free: concurrent calls on one source resolve to one winner.
/// </summary>
/// <remarks>
/// A source that registers through this passes the errno of every I/O call through <see cref="Complete"/>
/// (mio's <c>IoSource::do_io</c>): the one place that tells the backend what happened, so that no source can
/// forget a case. The poll(2) backend relies on it to emulate edge triggering: would-block rearms the direction,
/// a failure rearms every direction (the call consumed a pending error, or the caller will retry later, as
/// after <c>EMFILE</c>), success changes nothing (the caller keeps calling until one of the other two).
/// State changes that make a source ready again without an I/O call (re-arming a timer, reading
/// <c>SO_ERROR</c>) call <see cref="Rearm"/> directly.
/// </remarks>
internal struct Registration
{
    private Registry? _registry;

    /// <summary>The registry this source is registered with, or <see langword="null"/>.</summary>
    public readonly Registry? Registry => Volatile.Read(ref Unsafe.AsRef(in _registry));

    public void Register(Registry registry, int fd, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry.Validate(interest, trigger);
        Registry? current = Interlocked.CompareExchange(ref _registry, registry, null);
        if (current is not null)
        {
            // A registration with a Poll that has since been disposed is gone with that Poll.
            if (!current.IsDisposed || Interlocked.CompareExchange(ref _registry, registry, current) != current)
            {
                throw AlreadyRegistered(current, registry, token, owner);
            }
        }

        try
        {
            registry.RegisterFd(fd, token, interest, trigger, owner, rearmsOnWouldBlock: true);
        }
        catch
        {
            Volatile.Write(ref _registry, null);
            throw;
        }
    }

    public readonly void Reregister(Registry registry, int fd, Token token, Interest interest, Trigger trigger, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ThrowIfNotRegisteredWith(registry, "reregister", owner);
        registry.ReregisterFd(fd, token, interest, trigger, owner, rearmsOnWouldBlock: true);
    }

    public void Deregister(Registry registry, int fd, object owner)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ThrowIfNotRegisteredWith(registry, "deregister", owner);
        registry.DeregisterFd(fd, owner);
        Volatile.Write(ref _registry, null);
    }

    /// <summary>
    /// The outcome of an I/O call on the source, told to the backend: 0 → <see cref="IoOutcome.Done"/> (nothing to
    /// tell; with <paramref name="drains"/> the call took everything there was, as a timerfd or eventfd read does,
    /// so it counts as a would-block too); EAGAIN → rearm <paramref name="interest"/>, <see cref="IoOutcome.WouldBlock"/>;
    /// anything else → rearm every direction, <see cref="IoOutcome.Failed"/> (the caller throws). On success this
    /// costs one comparison; otherwise a field read, and nothing more on epoll.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly IoOutcome Complete(int fd, int errno, Interest interest, bool drains = false)
    {
        if (errno == 0)
        {
            if (drains)
            {
                Rearm(fd, interest);
            }

            return IoOutcome.Done;
        }

        if (errno == Os.Errno.EAGAIN)
        {
            Rearm(fd, interest);
            return IoOutcome.WouldBlock;
        }

        Rearm(fd, AllInterests);
        return IoOutcome.Failed;
    }

    /// <summary>
    /// The source may have become ready without an I/O call returning would-block (a timer was re-armed, a
    /// pending error was read): a backend that emulates edge triggering (poll(2)) rearms <paramref name="interest"/>.
    /// Costs a field read and nothing else on epoll.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Rearm(int fd, Interest interest) => Registry?.Rearm(fd, interest);

    /// <summary>Every direction, for <see cref="Rearm"/> after a failure or <c>TakeError</c>.</summary>
    public const Interest AllInterests = Interest.Readable | Interest.Writable | Interest.Priority;

    /// <summary>Called just before the owner closes its descriptor: forgets the registration, ignoring errors.</summary>
    public void OnClose(int fd)
    {
        Registry? registry = Interlocked.Exchange(ref _registry, null);
        registry?.ForgetFd(fd);
    }

    /// <summary>
    /// <see cref="Register(Registry, int, Token, Interest, Trigger, object)"/> for a source that owns
    /// <paramref name="handle"/> and a <paramref name="disposed"/> flag: the descriptor is held open while the
    /// backend is told its number (a concurrent <c>Dispose</c> cannot let another descriptor take that number first),
    /// and a registration that <c>Dispose</c> overtook is undone. Returns <see langword="false"/>, with nothing
    /// registered, when the source was disposed before or during the call: the caller then throws its
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public bool Register(Registry registry, FdHandle handle, ref int disposed, Token token, Interest interest, Trigger trigger, object owner)
    {
        bool added = false;
        try
        {
            if (!Hold(handle, ref disposed, ref added))
            {
                return false;
            }

            Register(registry, handle.Fd, token, interest, trigger, owner);
            if (Volatile.Read(ref disposed) != 0)
            {
                UndoRegister(registry, handle.Fd);
                return false;
            }

            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary><see cref="Reregister(Registry, int, Token, Interest, Trigger, object)"/> with <paramref name="handle"/> held open; <see langword="false"/> once disposed.</summary>
    public readonly bool Reregister(Registry registry, FdHandle handle, ref int disposed, Token token, Interest interest, Trigger trigger, object owner)
    {
        bool added = false;
        try
        {
            if (!Hold(handle, ref disposed, ref added))
            {
                return false;
            }

            Reregister(registry, handle.Fd, token, interest, trigger, owner);
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary><see cref="Deregister(Registry, int, object)"/> with <paramref name="handle"/> held open; <see langword="false"/> once disposed.</summary>
    public bool Deregister(Registry registry, FdHandle handle, ref int disposed, object owner)
    {
        bool added = false;
        try
        {
            if (!Hold(handle, ref disposed, ref added))
            {
                return false;
            }

            Deregister(registry, handle.Fd, owner);
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Takes a reference on <paramref name="handle"/> unless the owner is disposed (or its handle closed by that Dispose).</summary>
    private static bool Hold(FdHandle handle, ref int disposed, ref bool added)
    {
        if (Volatile.Read(ref disposed) != 0)
        {
            return false;
        }

        try
        {
            handle.DangerousAddRef(ref added);
            return true;
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref disposed) != 0)
        {
            return false;
        }
    }

    /// <summary>
    /// Undoes a <see cref="Register(Registry, int, Token, Interest, Trigger, object)"/> with <paramref name="registry"/> that a concurrent <c>Dispose</c> overtook:
    /// that Dispose's <see cref="OnClose"/> may have run before the descriptor reached the backend, so forget it
    /// in <paramref name="registry"/> itself (the poll(2) backend would otherwise keep the closed number).
    /// </summary>
    public void UndoRegister(Registry registry, int fd)
    {
        Interlocked.CompareExchange(ref _registry, null, registry);
        registry.ForgetFd(fd);
    }

    private readonly void ThrowIfNotRegisteredWith(Registry registry, string action, object owner)
    {
        Registry? current = Registry;
        if (current != registry)
        {
            throw new InvalidOperationException(current is null
                ? $"Cannot {action} {owner}: it is not registered. Register it first."
                : $"Cannot {action} {owner} with this Poll: it is registered with another Poll. Use that Poll's Registry.");
        }
    }

    private static InvalidOperationException AlreadyRegistered(Registry current, Registry requested, Token token, object owner) =>
        new(current == requested
            ? $"Cannot register {owner} under token {(ulong)token}: it is already registered with this Poll. Use Reregister to change its token, interest or trigger."
            : $"Cannot register {owner} under token {(ulong)token}: it is registered with another Poll. Deregister it there first; a source is registered with at most one Poll at a time.");
}

/// <summary>What an I/O call came to, as <see cref="Registration.Complete"/> classifies its errno.</summary>
internal enum IoOutcome
{
    /// <summary>It succeeded.</summary>
    Done,

    /// <summary>It would block (EAGAIN): a <c>Try…</c> returns <see langword="false"/>.</summary>
    WouldBlock,

    /// <summary>It failed with another errno: a <c>Try…</c> throws.</summary>
    Failed,
}
