namespace Polling;

/// <summary>
/// When a registration reports readiness. Exactly one of <see cref="Edge"/> or <see cref="Level"/>
/// must be given; <see cref="Oneshot"/> may be added to either. Anything else
/// (<c>(Trigger)0</c>, <c>Oneshot</c> alone, <c>Edge | Level</c>) throws <see cref="ArgumentException"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="Edge"/> (the default): an event when readiness arrives. After you drain the source
/// until its <c>Try…</c> call returns <see langword="false"/>, no further event comes until new readiness
/// arrives — and new readiness after a drain always produces an event.</item>
/// <item><see cref="Level"/>: every <see cref="Poll.Wait"/> reports the source while it is ready.</item>
/// <item><see cref="Oneshot"/>: one event, then silence until <see cref="Registry.Reregister"/>.</item>
/// </list>
/// <para>Spurious events are allowed (a <c>Try…</c> call after an event may return
/// <see langword="false"/>); lost events are not. Both backends hold these rules. On epoll all three are
/// native. On poll(2) (<see cref="PollBackend.Poll"/>) Level and Oneshot are native and Edge is emulated:
/// the direction that fired is disarmed and Polling's sources re-arm it when a <c>Try…</c> call returns
/// <see langword="false"/>. Two consequences: an Edge event there carries only the directions that are
/// armed (epoll also reports a direction that was reported before and never drained), and a
/// <see cref="SourceFd"/> under Edge is reported level-triggered, since it cannot report would-block.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Server = (Token)0, Job = (Token)1;
/// using var job = new TimerSource();
/// registry.Register(listener, Server, Interest.Readable, Trigger.Level);
/// registry.Register(job, Job, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
/// </code>
/// </example>
[Flags]
public enum Trigger
{
    /// <summary>Report readiness when it arrives (<c>EPOLLET</c>). Drain until would-block.</summary>
    Edge = 1,

    /// <summary>Report readiness on every wait while it lasts.</summary>
    Level = 2,

    /// <summary>Report once, then stay silent until the source is reregistered (<c>EPOLLONESHOT</c>).</summary>
    Oneshot = 4,

    /// <summary>
    /// Wake only one of the Polls that wait on this descriptor (<c>EPOLLEXCLUSIVE</c>), for one listener shared by
    /// several event loops: a new connection wakes one loop instead of all of them (the thundering herd). Add it to
    /// Edge or Level in <see cref="Registry.Register"/> of a source watched for <see cref="Interest.Readable"/>
    /// and/or <see cref="Interest.Writable"/>; not with <see cref="Oneshot"/> or <see cref="Interest.Priority"/>, and
    /// not in <see cref="Registry.Reregister"/> (<see cref="ArgumentException"/>) — the kernel cannot change an
    /// exclusive registration: deregister and register again instead. Reregistering a source that was registered
    /// with it fails on epoll (<see cref="IOException"/> or <see cref="System.Net.Sockets.SocketException"/> with
    /// EINVAL). On epoll an exclusive registration reports no <see cref="Event.IsReadClosed"/> (the kernel refuses
    /// <c>EPOLLRDHUP</c> with it); hang-ups and errors are still reported. The poll(2) backend accepts it and ignores
    /// it: every Poll waiting on the descriptor is woken, which is correct, only less efficient. Several loops with
    /// their own <c>SO_REUSEPORT</c> listeners (<c>TcpListenerOptions.ReusePort</c>) need no exclusive wake-ups.
    /// </summary>
    /// <example>
    /// <code>
    /// // one listener, one Poll per core: each loop registers the same descriptor exclusively
    /// int listenerFd = (int)listener.Handle.DangerousGetHandle();
/// using var loopPoll = new Poll();
/// loopPoll.Registry.Register(new SourceFd(listenerFd), (Token)0, Interest.Readable, Trigger.Level | Trigger.Exclusive);
    /// </code>
    /// </example>
    Exclusive = 8,
}
