namespace Polling.Net.Servers.Tests;

/// <summary>Deadlines and reads for the building-block tests (connected pairs: <see cref="Polling.TestSupport.LoopbackPairs"/>).</summary>
internal static class Helpers
{
    /// <summary>A generous bound for anything that should happen "soon" on a busy 2-core machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static readonly IPEndPoint LoopbackAny = new(IPAddress.Loopback, 0);

    public static readonly PollBackend[] Backends = [PollBackend.Epoll, PollBackend.Poll];

    public static TheoryData<PollBackend, Trigger> BackendsAndTriggers() => new()
    {
        { PollBackend.Epoll, Trigger.Edge },
        { PollBackend.Epoll, Trigger.Level },
        { PollBackend.Poll, Trigger.Edge },
        { PollBackend.Poll, Trigger.Level },
    };

    /// <summary>Retries <paramref name="attempt"/> every millisecond until it returns true; fails after <see cref="Deadline"/>.</summary>
    public static void Eventually(Func<bool> attempt, string what)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (!attempt())
        {
            if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for: {what}");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Reads from a non-blocking stream until <paramref name="into"/> is full (spinning on would-block with a deadline).</summary>
    public static void ReadExactly(TcpStream stream, Span<byte> into)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        int got = 0;
        while (got < into.Length)
        {
            if (stream.TryRead(into[got..], out int n))
            {
                Assert.True(n > 0, $"end of stream after {got} of {into.Length} bytes");
                got += n;
            }
            else if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException($"read {got} of {into.Length} bytes within {Deadline}");
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }
}
