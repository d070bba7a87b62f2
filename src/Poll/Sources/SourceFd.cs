namespace Polling;

/// <summary>
/// Adapts a file descriptor that the caller owns (a socket from elsewhere, an <c>inotify</c> or
/// <c>timerfd</c> descriptor, a terminal) so it can be registered. This is mio's <c>SourceFd</c>.
/// </summary>
/// <remarks>
/// <para>The caller keeps ownership: Polling never closes the descriptor. Deregister it before
/// closing it, and do not register the same descriptor with two <see cref="Poll"/>s at once
/// (Polling cannot see a descriptor's other registrations; its own socket types check this).</para>
/// <para>The descriptor should be non-blocking, and with <see cref="Trigger.Edge"/> you must read or
/// write it until the kernel says <c>EAGAIN</c> before waiting again.</para>
/// <para>On the poll(2) backend (<see cref="PollBackend.Poll"/>) edge triggering is emulated by re-arming a
/// registration when an I/O call would block, which Polling's own sources report and a raw descriptor
/// cannot. So there a <see cref="SourceFd"/> registered with <see cref="Trigger.Edge"/> is reported
/// level-triggered: nothing is lost, but it is reported on every wait while it stays ready. Prefer
/// <see cref="Trigger.Level"/> or <c>Trigger.Edge | Trigger.Oneshot</c> (both native there) for raw
/// descriptors on that backend. On epoll (the default) all triggers are native.</para>
/// <para>Registering through <see cref="Registry"/> boxes this struct (one small allocation per
/// <c>Register</c>/<c>Reregister</c>/<c>Deregister</c> call, none per event).</para>
/// </remarks>
/// <example>
/// <code>
/// int fd = OpenDevice();                          // a non-blocking descriptor you own
/// poll.Registry.Register(new SourceFd(fd), (Token)3, Interest.Readable);
/// // … on events for token 3, read the device until it would block …
/// poll.Registry.Deregister(new SourceFd(fd));
/// CloseDevice(fd);
///
/// static int OpenDevice() => throw new NotImplementedException("your native library opens it");
/// static void CloseDevice(int fd) { /* and closes it */ }
/// </code>
/// </example>
public readonly struct SourceFd : ISource
{
    /// <summary>Wraps <paramref name="fd"/>, which must be a non-negative file descriptor.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public SourceFd(int fd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        Fd = fd;
    }

    /// <summary>The wrapped file descriptor.</summary>
    public int Fd { get; }

    /// <inheritdoc />
    public void Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.RegisterFd(Fd, token, interest, trigger, this);
    }

    /// <inheritdoc />
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.ReregisterFd(Fd, token, interest, trigger, this);
    }

    /// <inheritdoc />
    public void Deregister(Registry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.DeregisterFd(Fd, this);
    }

    /// <summary>Returns <c>SourceFd(fd N)</c>.</summary>
    public override string ToString() => $"SourceFd(fd {Fd})";
}
