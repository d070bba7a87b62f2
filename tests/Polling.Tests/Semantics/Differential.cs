namespace Polling.Tests.Semantics;

/// <summary>
/// Compares what epoll and poll(2) reported for the same scenario, wait by wait, allowing only the
/// differences the readiness contract allows between them. The scenarios use an Events batch that
/// holds every event of a wait: with a smaller batch, which optional event each backend returns first
/// and which it leaves pending for the next wait is an ordering detail, not a semantic difference (a
/// 10,000-sequence run found exactly that with capacity 1). The differences allowed:
/// <list type="bullet">
/// <item>Level and Oneshot: identical flags per token.</item>
/// <item>Edge on a source that rearms on would-block: poll(2) may report less than epoll, never more —
/// epoll reports a file's whole ready mask on any wakeup and fires on new data even when the caller
/// did not drain; the emulation reports only directions rearmed by a would-block.</item>
/// <item>Edge on a raw <see cref="SourceFd"/>: poll(2) is level-triggered there, so epoll may report less.</item>
/// <item>Edge after a <c>Try…</c> threw or <c>TakeError</c> ran: poll(2) rearms every direction then, so it may
/// report readiness that was already there (a spurious event) where epoll, which fires only on new wakeups,
/// reports nothing.</item>
/// <item>Where the model cannot know whether there is room to write (TCP after a fill: room returns
/// asynchronously; any stream or pipe after the peer read only part of a full buffer: the kernel's
/// thresholds decide) the Writable bit is not compared — with a small Events batch, one backend may
/// have reported such an optional event and the other not yet — and a oneshot registration whose
/// event may have been that uncertain room is not compared again until it is reregistered.</item>
/// </list>
/// </summary>
internal static class Differential
{
    private const uint Out = 0x004;

    /// <summary>Null when the backends agree; otherwise a description of the first disagreement.</summary>
    public static string? Compare(List<WaitRecord> epoll, List<WaitRecord> poll)
    {
        if (epoll.Count != poll.Count)
        {
            return $"the backends ran {epoll.Count} and {poll.Count} waits";
        }

        var uncomparable = new HashSet<(ulong Token, int Generation)>();
        for (int w = 0; w < epoll.Count; w++)
        {
            WaitRecord e = epoll[w];
            WaitRecord p = poll[w];
            foreach ((ulong token, TokenInfo info) in e.Tokens)
            {
                uint fromEpoll = e.Flags.GetValueOrDefault(token);
                uint fromPoll = p.Flags.GetValueOrDefault(token);
                bool edge = (info.Trigger & Trigger.Edge) != 0 && (info.Trigger & Trigger.Oneshot) == 0;
                if (info.WriteUncertain)
                {
                    fromEpoll &= ~Out;
                    fromPoll &= ~Out;
                    if ((info.Trigger & Trigger.Oneshot) != 0)
                    {
                        uncomparable.Add((token, info.Generation));
                    }
                }

                if (uncomparable.Contains((token, info.Generation)))
                {
                    continue;
                }

                bool agree = !edge ? fromEpoll == fromPoll
                    : info.Kind == SourceKind.RawEventFd ? (fromEpoll & ~fromPoll) == 0
                    : info.RearmedByFailure || (fromPoll & ~fromEpoll) == 0;
                if (!agree)
                {
                    return $"at operation {e.OpIndex + 1} token 0x{token:X} ({info.Kind}, {info.Trigger}) got flags 0x{fromEpoll:X} from epoll but 0x{fromPoll:X} from poll(2)";
                }
            }
        }

        return null;
    }
}
