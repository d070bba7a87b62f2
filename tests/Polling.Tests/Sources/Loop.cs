using System.Diagnostics;
using Xunit;

namespace Polling.Tests.Sources;

/// <summary>Waiting helpers: generous deadlines for what must happen, short quiet periods for what must not.</summary>
internal static class Loop
{
    /// <summary>How long a test waits for something that must happen (a slow, shared machine).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>How long a test watches for an event that must not come. A bug can only make it fail, never pass wrongly.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits until an event for <paramref name="token"/> arrives or <paramref name="timeout"/> passes.</summary>
    public static bool WaitFor(Poll poll, Events events, Token token, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? Patience;
        while (deadline.Elapsed < limit)
        {
            poll.Wait(events, limit - deadline.Elapsed);
            foreach (Event ev in events)
            {
                if (ev.Token == token)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Asserts an event for <paramref name="token"/> arrives within <see cref="Patience"/>.</summary>
    public static void AssertEvent(Poll poll, Events events, Token token, string because)
    {
        Assert.True(WaitFor(poll, events, token), $"expected an event for token {(ulong)token} within {Patience.TotalSeconds} s: {because}");
    }

    /// <summary>Asserts that no event for <paramref name="token"/> arrives within <see cref="Quiet"/>.</summary>
    public static void AssertSilent(Poll poll, Events events, Token token, string because)
    {
        Assert.False(WaitFor(poll, events, token, Quiet), $"expected no event for token {(ulong)token}: {because}");
    }

    /// <summary>One non-blocking wait: did it report <paramref name="token"/>?</summary>
    public static bool ReportsNow(Poll poll, Events events, Token token)
    {
        poll.Wait(events, TimeSpan.Zero);
        foreach (Event ev in events)
        {
            if (ev.Token == token)
            {
                return true;
            }
        }

        return false;
    }
}
