using System.Net;
using System.Net.Sockets;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Tests.Net;

/// <summary>Shared plumbing for the Polling.Net tests: deadlines, reads, descriptor counts (connected pairs: <see cref="Polling.TestSupport.LoopbackPairs"/>).</summary>
internal static class NetHelpers
{
    /// <summary>A generous upper bound for anything that should happen "soon" on a busy 2-core machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static readonly IPEndPoint LoopbackAny = new(IPAddress.Loopback, 0);

    /// <summary>Waits until an event for <paramref name="token"/> satisfies <paramref name="predicate"/>; fails after <see cref="Deadline"/>.
    /// Events for other tokens are lost: with edge triggering use <see cref="EventLog"/> instead.</summary>
    public static Event WaitFor(Poll poll, Events events, Token token, Func<Event, bool>? predicate = null)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < end)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (ev.Token == token && (predicate is null || predicate(ev)))
                {
                    return ev;
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"No matching event for token {(ulong)token} within {Deadline}.");
    }

    /// <summary>Waits a short while and returns every event seen for <paramref name="token"/> (for "no event" checks).</summary>
    public static List<Event> Drain(Poll poll, Events events, Token token, TimeSpan? window = null)
    {
        var seen = new List<Event>();
        DateTime end = DateTime.UtcNow + (window ?? TimeSpan.FromMilliseconds(100));
        do
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(20));
            foreach (Event ev in events)
            {
                if (ev.Token == token)
                {
                    seen.Add(ev);
                }
            }
        }
        while (DateTime.UtcNow < end);
        return seen;
    }

    /// <summary>Retries <paramref name="attempt"/> until it returns true (polling every millisecond); fails after <see cref="Deadline"/>.</summary>
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

    /// <summary>A <c>TryRead</c> of any stream type.</summary>
    public delegate bool TryReadFunc(Span<byte> buffer, out int bytesRead);

    /// <summary>Reads exactly <paramref name="count"/> bytes from a TCP stream, retrying until the deadline.</summary>
    public static byte[] ReadExactly(TcpStream stream, int count) => ReadExactly(stream.TryRead, count);

    /// <summary>Reads exactly <paramref name="count"/> bytes from a Unix stream, retrying until the deadline.</summary>
    public static byte[] ReadExactly(UnixStream stream, int count) => ReadExactly(stream.TryRead, count);

    private static byte[] ReadExactly(TryReadFunc tryRead, int count)
    {
        var result = new byte[count];
        int filled = 0;
        DateTime end = DateTime.UtcNow + Deadline;
        while (filled < count)
        {
            if (tryRead(result.AsSpan(filled), out int n))
            {
                if (n == 0)
                {
                    throw new Xunit.Sdk.XunitException($"End of stream after {filled} of {count} bytes.");
                }

                filled += n;
            }
            else if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {filled} of {count} bytes.");
            }
            else
            {
                Thread.Sleep(1);
            }
        }

        return result;
    }

    /// <summary>Whether IPv6 loopback (::1) can be bound here.</summary>
    public static bool HasIPv6Loopback()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A fresh directory under the temp dir for Unix socket paths; deleted by the caller.</summary>
    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "pn-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>A Poll whose events are all kept until a test asks for them, so edge-triggered events for one
/// token are not lost while the test waits for another.</summary>
internal sealed class EventLog : IDisposable
{
    private readonly List<Event> _pending = new();
    private readonly Events _events = new(64);

    public Poll Poll { get; } = new();

    public Registry Registry => Poll.Registry;

    /// <summary>Returns (and removes) the first event for <paramref name="token"/> matching <paramref name="predicate"/>, waiting up to the deadline.</summary>
    public Event WaitFor(Token token, Func<Event, bool>? predicate = null)
    {
        DateTime end = DateTime.UtcNow + NetHelpers.Deadline;
        while (true)
        {
            int index = _pending.FindIndex(e => e.Token == token && (predicate is null || predicate(e)));
            if (index >= 0)
            {
                Event found = _pending[index];
                _pending.RemoveAt(index);
                return found;
            }

            if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException(
                    $"No matching event for token {(ulong)token} within {NetHelpers.Deadline}; seen: {string.Join(", ", _pending)}.");
            }

            Poll.Wait(_events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in _events)
            {
                _pending.Add(ev);
            }
        }
    }

    /// <summary>Collects events for a short window and returns (and removes) those for <paramref name="token"/>.</summary>
    public List<Event> Drain(Token token, TimeSpan? window = null)
    {
        DateTime end = DateTime.UtcNow + (window ?? TimeSpan.FromMilliseconds(100));
        do
        {
            Poll.Wait(_events, TimeSpan.FromMilliseconds(20));
            foreach (Event ev in _events)
            {
                _pending.Add(ev);
            }
        }
        while (DateTime.UtcNow < end);
        List<Event> mine = _pending.FindAll(e => e.Token == token);
        _pending.RemoveAll(e => e.Token == token);
        return mine;
    }

    public void Dispose() => Poll.Dispose();
}
