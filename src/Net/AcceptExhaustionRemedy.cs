namespace Polling.Net;

/// <summary>
/// What an <see cref="AcceptLoop"/> does when <c>accept</c> fails because the process or the system is out of
/// descriptors (<c>EMFILE</c>, <c>ENFILE</c>). Out of kernel memory (<c>ENOBUFS</c>, <c>ENOMEM</c>) always pauses.
/// </summary>
/// <example>
/// <code>
/// var options = new AcceptLoopOptions { Remedy = AcceptExhaustionRemedy.Pause, RetryDelay = TimeSpan.FromMilliseconds(250) };
/// </code>
/// </example>
public enum AcceptExhaustionRemedy
{
    /// <summary>
    /// libuv's and Bun's remedy (the default): the loop keeps one spare descriptor open; when <c>accept</c> fails
    /// for want of descriptors it closes the spare, accepts and closes every waiting connection (the clients see
    /// an orderly close instead of hanging in the backlog), and reopens the spare. The listener stays armed, so
    /// the first connection after descriptors free up is accepted and served at once. If the spare cannot be
    /// reopened (another thread took the number), the loop falls back to <see cref="Pause"/>.
    /// </summary>
    ShedWithReserve,

    /// <summary>
    /// nginx's remedy: stop listening for <see cref="AcceptLoopOptions.RetryDelay"/> and try again on a timer.
    /// Waiting connections stay in the kernel's backlog and are served once descriptors free up; clients that
    /// arrive meanwhile queue behind them (or are refused by the kernel when the backlog is full).
    /// </summary>
    Pause,
}
