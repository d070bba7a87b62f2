namespace Polling;

/// <summary>
/// The kernel mechanism a <see cref="Poll"/> waits with. Both hold the same readiness contract
/// (docs/design.md, "Readiness"); they differ in cost and in one documented corner.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="Epoll"/> (the default, <c>new Poll()</c>): the kernel keeps the interest list and the
/// ready list, so a wait costs O(ready sources). Use it.</item>
/// <item><see cref="Poll"/>: <c>poll(2)</c> over an array of every registered descriptor, so a wait costs
/// O(registered sources) — fine for a handful, slow for thousands (see the benchmark table in the
/// README). It exists as a portable reference implementation, for environments where epoll is
/// unavailable or filtered (some sandboxes), and as a second implementation the readiness properties
/// are checked against. Level and Oneshot are native; Edge is emulated: after an event the fired
/// direction is disarmed, and Polling's own sources re-arm it when a <c>Try…</c> call returns
/// <see langword="false"/> (would block). A <see cref="SourceFd"/> registered with
/// <see cref="Trigger.Edge"/> cannot tell the backend when it would block, so on this backend it is
/// reported level-triggered: never a lost wake-up, but an event on every wait while the descriptor
/// stays ready (with <see cref="Interest.Writable"/> on an idle socket that is every wait). Register
/// raw descriptors with <see cref="Trigger.Level"/> or <c>Trigger.Edge | Trigger.Oneshot</c> on this
/// backend if that matters.</item>
/// </list>
/// </remarks>
/// <example>
/// <code>
/// using var poll = new Poll(PollBackend.Poll);   // poll(2) instead of epoll
/// poll.Registry.Register(stream, (Token)1, Interest.Readable);
/// </code>
/// </example>
public enum PollBackend
{
    /// <summary>epoll(7): O(ready) waits, native edge triggering. The default.</summary>
    Epoll = 0,

    /// <summary>poll(2): O(registered) waits, edge triggering emulated (see <see cref="PollBackend"/>).</summary>
    Poll = 1,
}
