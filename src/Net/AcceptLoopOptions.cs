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
}
