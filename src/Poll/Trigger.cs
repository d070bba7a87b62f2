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
/// </remarks>
/// <example>
/// <code>
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
}
