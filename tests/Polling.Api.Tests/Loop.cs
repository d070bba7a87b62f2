using Polling;

namespace Polling.Api.Tests;

/// <summary>Waits on a Poll with a deadline until a condition holds (never sleeps for correctness).</summary>
internal static class Loop
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>Waits for events until <paramref name="done"/> returns true for one of them, or fails at the deadline.</summary>
    public static void Until(Poll poll, Events events, Func<Event, bool> done, string what, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? Deadline);
        while (DateTime.UtcNow < end)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (done(ev))
                {
                    return;
                }
            }
        }

        Assert.Fail($"Timed out after {(deadline ?? Deadline).TotalSeconds} s waiting for {what}.");
    }
}
