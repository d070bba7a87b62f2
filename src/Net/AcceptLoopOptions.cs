namespace Polling.Net;

/// <summary>Settings of an <see cref="AcceptLoop"/>: how the listener is registered and what to do when descriptors run out.</summary>
/// <example>
/// <code>
/// const Token ListenerToken = (Token)0, RetryToken = (Token)1;
/// var accept = new AcceptLoop(poll.Registry, listener, ListenerToken, RetryToken,
///     new AcceptLoopOptions { Trigger = Trigger.Level, RetryDelay = TimeSpan.FromMilliseconds(50) });
/// </code>
/// </example>
public sealed record AcceptLoopOptions
{
    /// <summary>The defaults: edge-triggered, <see cref="AcceptExhaustionRemedy.ShedWithReserve"/>, 100 ms retry delay.</summary>
    public static AcceptLoopOptions Default { get; } = new();

    /// <summary>How the listener is registered: <see cref="Polling.Trigger.Edge"/> (the default) or <see cref="Polling.Trigger.Level"/>.</summary>
    public Trigger Trigger { get; init; } = Trigger.Edge;

    /// <summary>What to do when <c>accept</c> fails for want of descriptors; see <see cref="AcceptExhaustionRemedy"/>.</summary>
    public AcceptExhaustionRemedy Remedy { get; init; } = AcceptExhaustionRemedy.ShedWithReserve;

    /// <summary>
    /// How long a paused loop waits before it tries <c>accept</c> again (a <see cref="TimerSource"/> under the
    /// retry token). Default 100 ms: at most ten system calls a second while exhausted, and new clients served
    /// within a tenth of a second once descriptors free up. 1 ms to 1 minute.
    /// </summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// When set, the loop holds at most <see cref="AcceptLoop.MaxConnections"/> connections: as many as leave this
    /// many descriptors free below the process's soft <c>RLIMIT_NOFILE</c> (redis's <c>maxclients</c>). A client
    /// beyond the cap is accepted and closed at once, as the <see cref="AcceptExhaustionRemedy.ShedWithReserve"/>
    /// remedy sheds. <see langword="null"/> (the default): no cap; clients are shed only when descriptors run out.
    /// </summary>
    /// <remarks>
    /// <para><b>Why.</b> The runtime needs descriptors of its own after start-up: .NET handles SIGTERM and SIGINT on a
    /// new thread (whether through <c>PosixSignalRegistration</c> or <see cref="SignalSource"/>), and starting any
    /// thread, e.g. a thread-pool thread, opens files (/sys/devices/system/cpu/possible, /proc/self/task/ID/comm;
    /// seen with strace on .NET 10). With no descriptor free the process aborts ("Out of memory.", exit 134) instead
    /// of shutting down. <see cref="SignalHeadroom"/> (4) covers the signal thread; redis keeps 32.</para>
    /// <para><b>How.</b> The cap is computed once, at the first <c>TryAccept</c> (when the loop starts serving,
    /// after the program opened its own descriptors): the soft limit from /proc/self/limits less the entries of
    /// /proc/self/fd, less the headroom, but at least one. After that the loop counts the connections it holds — handed out by
    /// <c>TryAccept</c> and not yet returned through <see cref="AcceptLoop.ConnectionClosed"/> — and needs no
    /// descriptor to do so. With a headroom, call <see cref="AcceptLoop.ConnectionClosed"/> for every connection you
    /// close, or the cap fills up. 0 to <see cref="int.MaxValue"/>.</para>
    /// </remarks>
    /// <example>
    /// <code>
    /// var accept = new AcceptLoop(poll.Registry, listener, (Token)0, (Token)1,
    ///     new AcceptLoopOptions { DescriptorHeadroom = AcceptLoopOptions.SignalHeadroom });
    /// </code>
    /// </example>
    public int? DescriptorHeadroom { get; init; }

    /// <summary>The two descriptors the runtime needs to start its signal-handling thread, and two to spare.</summary>
    public const int SignalHeadroom = 4;
}
