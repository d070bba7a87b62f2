using Xunit;
using Xunit.Sdk;

namespace Polling.Tests.Net;

/// <summary>Waiting helpers shared by the pipe, UDP and Unix datagram tests: every wait has a generous deadline, none sleeps for correctness.</summary>
internal static class DgramWait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Waits until an event for <paramref name="token"/> satisfying <paramref name="match"/> arrives; fails after <see cref="Deadline"/>.</summary>
    public static Event For(Poll poll, Events events, Token token, Func<Event, bool>? match = null, string? what = null)
    {
        var seen = new List<Event>();
        DateTime end = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < end)
        {
            TimeSpan left = end - DateTime.UtcNow;
            poll.Wait(events, left < TimeSpan.Zero ? TimeSpan.Zero : left);
            foreach (Event ev in events)
            {
                if (ev.Token == token && (match is null || match(ev)))
                {
                    return ev;
                }

                seen.Add(ev);
            }
        }

        throw new XunitException($"No {what ?? "matching"} event for token {(ulong)token} within {Deadline.TotalSeconds} s; saw: [{string.Join(", ", seen)}]");
    }

    /// <summary>Asserts that a short wait reports nothing for <paramref name="token"/>.</summary>
    public static void None(Poll poll, Events events, Token token, int milliseconds = 100)
    {
        poll.Wait(events, TimeSpan.FromMilliseconds(milliseconds));
        foreach (Event ev in events)
        {
            Assert.False(ev.Token == token, $"Unexpected event {ev}");
        }
    }

    /// <summary>Calls <paramref name="attempt"/> until it returns true, waiting for <paramref name="token"/>'s events in between.</summary>
    public static void Until(Poll poll, Events events, Token token, Func<bool> attempt, string what)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (!attempt())
        {
            if (DateTime.UtcNow > end)
            {
                throw new XunitException($"Gave up waiting for {what} after {Deadline.TotalSeconds} s.");
            }

            poll.Wait(events, TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>The number of open descriptors of this process.</summary>
    public static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;
}
