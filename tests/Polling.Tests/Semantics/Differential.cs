namespace Polling.Tests.Semantics;

/// <summary>
/// Compares what epoll and poll(2) reported for the same scenario, wait by wait, allowing only the
/// differences the readiness contract allows between them:
/// <list type="bullet">
/// <item>Level and Oneshot: identical flags per token.</item>
/// <item>Edge on a source that rearms on would-block: poll(2) may report less than epoll, never more —
/// epoll reports a file's whole ready mask on any wakeup and fires on new data even when the caller
/// did not drain; the emulation reports only directions rearmed by a would-block.</item>
/// <item>Edge on a raw <see cref="SourceFd"/>: poll(2) is level-triggered there, so epoll may report less.</item>
/// <item>TCP after a fill: the Writable bit is not compared (write room returns asynchronously), and a
/// oneshot registration whose event may have been that asynchronous room is not compared again.</item>
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
                if (info.AsyncRoom)
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
                    : (fromPoll & ~fromEpoll) == 0;
                if (!agree)
                {
                    return $"at operation {e.OpIndex + 1} token 0x{token:X} ({info.Kind}, {info.Trigger}) got flags 0x{fromEpoll:X} from epoll but 0x{fromPoll:X} from poll(2)";
                }
            }
        }

        return null;
    }
}
