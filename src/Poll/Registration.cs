using System.Runtime.CompilerServices;

namespace Polling;

/// <summary>
/// Tracks which <see cref="Registry"/> one of Polling's own sources is registered with, so that
/// registering twice, registering with a second Poll, or re-/deregistering an unregistered source
/// fails with a clear <see cref="InvalidOperationException"/> before the kernel is asked.
/// Keep it as a mutable field of the owning source (never copy it) and pass the owner for messages.
/// Lock-free: concurrent calls on one source resolve to one winner.
/// A source that registers through this promises to call <see cref="Rearm"/> whenever one of its I/O calls
/// returns would-block (EAGAIN); the poll(2) backend relies on that to emulate edge triggering.
/// </summary>
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
    /// Call when an I/O call on the source returned would-block (EAGAIN): a backend that emulates edge
    /// triggering (poll(2)) rearms the interest then. Costs a field read and nothing else on epoll.
    /// </summary>
    public readonly void Rearm(int fd, Interest interest) => Registry?.Rearm(fd, interest);

    /// <summary>Called just before the owner closes its descriptor: forgets the registration, ignoring errors.</summary>
    public void OnClose(int fd)
    {
        Registry? registry = Interlocked.Exchange(ref _registry, null);
        registry?.ForgetFd(fd);
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
