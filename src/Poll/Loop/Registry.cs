using System.Runtime.CompilerServices;
using Polling.Os;

namespace Polling;

/// <summary>
/// Registers sources with a <see cref="Poll"/>: what to watch (<see cref="Interest"/>), how to report it
/// (<see cref="Trigger"/>) and under which <see cref="Token"/>. Obtain it from <see cref="Poll.Registry"/>.
/// </summary>
/// <remarks>
/// <para><b>Thread safety:</b> every method may be called from any thread, including while another
/// thread is blocked in <see cref="Poll.Wait"/>; a change takes effect for that wait or the next. On the
/// poll(2) backend (<see cref="PollBackend.Poll"/>) a change made while another thread is blocked briefly
/// interrupts that wait internally (it resumes with the new set; no event is reported for the interruption),
/// so frequent cross-thread changes cost a wakeup each there; on epoll the kernel applies them directly.</para>
/// <para><b>Errors:</b> <see cref="ArgumentNullException"/> for a null source;
/// <see cref="ArgumentException"/> for an empty interest or a trigger that is not exactly one of
/// Edge/Level (optionally with Oneshot); <see cref="InvalidOperationException"/> for registering a
/// source that is already registered (here or with another Poll), or re-/deregistering one that is not
/// registered here; <see cref="ObjectDisposedException"/> once the Poll is disposed;
/// <see cref="IOException"/> (errno in <see cref="Exception.HResult"/>) when the kernel refuses.
/// A call that throws changes nothing.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Listener = (Token)0;
/// using var poll = new Poll();
/// using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 9000));
/// poll.Registry.Register(listener, Listener, Interest.Readable);
/// // later, from any thread:
/// poll.Registry.Reregister(listener, Listener, Interest.Readable, Trigger.Level);
/// poll.Registry.Deregister(listener);
/// </code>
/// </example>
public sealed class Registry
{
    private readonly Poll _poll;
    private readonly ISelector _selector;

    // Only poll(2)'s edge emulation listens to Rearm; epoll's is empty (the kernel tracks edges). Asking once here
    // saves an interface call on every would-block and every short read — one per echo round trip.
    private readonly bool _selectorRearms;

    internal Registry(Poll poll, ISelector selector)
    {
        _poll = poll;
        _selector = selector;
        _selectorRearms = selector is not EpollSelector;
    }

    /// <summary><see langword="true"/> once the owning <see cref="Poll"/> is disposed.</summary>
    internal bool IsDisposed => _poll.IsDisposed;

    /// <summary>Starts watching <paramref name="source"/> for <paramref name="interest"/>, reporting it under <paramref name="token"/>.</summary>
    /// <param name="source">The socket, pipe, waker or other source; registered with at most one Poll at a time.</param>
    /// <param name="token">Any 64-bit value; events for this source carry it. Polling does not look at tokens: two
    /// sources registered under the same token are allowed (as in mio) and both are reported, each in its own event
    /// carrying that token — telling them apart is then up to you.</param>
    /// <param name="interest">What to watch; not empty.</param>
    /// <param name="trigger">Exactly one of Edge or Level, optionally with Oneshot or <see cref="Trigger.Exclusive"/>. Default: Edge.</param>
    public void Register(ISource source, Token token, Interest interest, Trigger trigger = Trigger.Edge)
    {
        ArgumentNullException.ThrowIfNull(source);
        Validate(interest, trigger);
        ThrowIfDisposed();
        source.Register(this, token, interest, trigger);
    }

    /// <summary>
    /// Changes the token, interest or trigger of a registered source. Readiness is re-evaluated: if the
    /// source is ready now, the next <see cref="Poll.Wait"/> reports it (this also rearms a Oneshot, and
    /// on the poll(2) backend every edge-triggered direction).
    /// </summary>
    public void Reregister(ISource source, Token token, Interest interest, Trigger trigger = Trigger.Edge)
    {
        ArgumentNullException.ThrowIfNull(source);
        Validate(interest, trigger);
        RefuseExclusiveReregister(trigger);
        ThrowIfDisposed();
        source.Reregister(this, token, interest, trigger);
    }

    /// <summary>Stops watching <paramref name="source"/>; it produces no further events.</summary>
    public void Deregister(ISource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfDisposed();
        source.Deregister(this);
    }

    /// <summary>
    /// Registers a raw descriptor; <paramref name="source"/> names it in error messages.
    /// <paramref name="rearmsOnWouldBlock"/>: the source calls <see cref="Rearm"/> whenever an I/O call
    /// returns would-block (true for Polling's own sources through <see cref="Registration"/>; false for
    /// a <see cref="SourceFd"/>, which the poll(2) backend therefore reports level-triggered under Edge).
    /// </summary>
    internal void RegisterFd(int fd, Token token, Interest interest, Trigger trigger, object? source = null, bool rearmsOnWouldBlock = false)
    {
        Validate(interest, trigger);
        ThrowIfDisposed();
        int errno = _selector.Register(fd, token, interest, trigger, rearmsOnWouldBlock);
        if (errno != 0)
        {
            throw ControlFailed(errno, "register", fd, token, source);
        }
    }

    internal void ReregisterFd(int fd, Token token, Interest interest, Trigger trigger, object? source = null, bool rearmsOnWouldBlock = false)
    {
        Validate(interest, trigger);
        RefuseExclusiveReregister(trigger);
        ThrowIfDisposed();
        int errno = _selector.Reregister(fd, token, interest, trigger, rearmsOnWouldBlock);
        if (errno != 0)
        {
            throw ControlFailed(errno, "reregister", fd, token, source);
        }
    }

    internal void DeregisterFd(int fd, object? source = null)
    {
        ThrowIfDisposed();
        int errno = _selector.Deregister(fd);
        if (errno != 0)
        {
            throw ControlFailed(errno, "deregister", fd, null, source);
        }
    }

    /// <summary>Tells an edge-emulating backend that <paramref name="fd"/> returned would-block for <paramref name="interest"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Rearm(int fd, Interest interest)
    {
        if (_selectorRearms)
        {
            _selector.Rearm(fd, interest);
        }
    }

    /// <summary>Removes a descriptor that is about to be closed, ignoring every error (the Poll may be gone).</summary>
    internal void ForgetFd(int fd)
    {
        if (!IsDisposed)
        {
            try
            {
                _selector.Deregister(fd);
            }
            catch (ObjectDisposedException)
            {
                // The Poll was disposed concurrently: nothing left to forget.
            }
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the interest is non-empty and the trigger is exactly one of Edge/Level (+ Oneshot).</summary>
    internal static void Validate(Interest interest, Trigger trigger)
    {
        const Interest allInterests = Interest.Readable | Interest.Writable | Interest.Priority;
        if (interest == 0 || (interest & ~allInterests) != 0)
        {
            throw new ArgumentException(
                $"Interest '{interest}' is not valid: give Readable, Writable, Priority or a combination of them (e.g. Interest.Readable | Interest.Writable).",
                nameof(interest));
        }

        Trigger mode = trigger & (Trigger.Edge | Trigger.Level);
        if ((trigger & ~(Trigger.Edge | Trigger.Level | Trigger.Oneshot | Trigger.Exclusive)) != 0 || mode == 0 || mode == (Trigger.Edge | Trigger.Level))
        {
            throw new ArgumentException(
                $"Trigger '{trigger}' is not valid: give exactly one of Edge or Level, optionally with Oneshot (e.g. Trigger.Edge | Trigger.Oneshot).",
                nameof(trigger));
        }

        ValidateExclusive(interest, trigger);
    }

    /// <summary>The rules of <see cref="Trigger.Exclusive"/> that the kernel would otherwise answer with EINVAL.</summary>
    private static void ValidateExclusive(Interest interest, Trigger trigger)
    {
        if ((trigger & Trigger.Exclusive) == 0)
        {
            return;
        }

        if ((trigger & Trigger.Oneshot) != 0 || (interest & Interest.Priority) != 0)
        {
            throw new ArgumentException(
                $"Trigger '{trigger}' with interest '{interest}' is not valid: Exclusive goes with Edge or Level and Readable and/or Writable, not with Oneshot or Priority (e.g. Trigger.Level | Trigger.Exclusive, Interest.Readable).",
                nameof(trigger));
        }
    }

    /// <summary>Reregister cannot make or change an exclusive registration (epoll refuses EPOLL_CTL_MOD with it).</summary>
    private static void RefuseExclusiveReregister(Trigger trigger)
    {
        if ((trigger & Trigger.Exclusive) != 0)
        {
            throw new ArgumentException(
                $"Trigger '{trigger}' is not valid in Reregister: an Exclusive registration cannot be changed. Deregister the source and Register it again.",
                nameof(trigger));
        }
    }

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(nameof(Poll), "This Registry's Poll has been disposed; create a new Poll to register sources.");
        }
    }

    private Exception ControlFailed(int errno, string action, int fd, Token? token, object? source)
    {
        string what = source?.ToString() ?? $"descriptor {fd}";
        string tokenText = token is { } t ? $" under token {(ulong)t}" : string.Empty;
        return errno switch
        {
            Errno.EEXIST => new InvalidOperationException(
                $"Cannot register {what}{tokenText}: it is already registered with this Poll. Use Reregister to change its token, interest or trigger, or Deregister it first."),
            Errno.ENOENT => new InvalidOperationException(
                $"Cannot {action} {what}{tokenText}: it is not registered with this Poll. Register it first."),
            Errno.EBADF => new IOException(
                $"Cannot {action} {what}{tokenText}: the descriptor is not open ({Errno.Describe(errno)}). Was it closed or disposed?", errno),
            Errno.EPERM => new IOException(
                $"Cannot {action} {what}{tokenText}: this kind of descriptor cannot be polled ({Errno.Describe(errno)}); regular files and directories are always ready, read them directly.", errno),
            _ => Errno.ToIOException(errno, $"{action} {what}{tokenText}"),
        };
    }
}
