using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>No other test runs beside these: the cap is counted from the descriptors the whole process has open.</summary>
[CollectionDefinition(nameof(DescriptorCountingCollection), DisableParallelization = true)]
public sealed class DescriptorCountingCollection;

/// <summary>
/// <see cref="AcceptLoopOptions.DescriptorHeadroom"/>: a cap counted once at the first TryAccept, connections over it
/// accepted and closed at once, the count of held connections kept by <see cref="AcceptLoop.ConnectionClosed"/>.
/// End to end, under prlimit and with SIGTERM: ExhaustionTests.TcpEchoExitsZeroOnSigtermWhileEveryClientSlotIsTaken.
/// </summary>
[Collection(nameof(DescriptorCountingCollection))]
public class DescriptorHeadroomTests
{
    private const Token Listener = (Token)0;
    private const Token Retry = (Token)1;
    private const int Clients = 40;

    [Fact]
    public void Without_a_headroom_there_is_no_cap()
    {
        using var poll = new Poll();
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry);
        using var client = TcpStream.Connect((IPEndPoint)accept.LocalEndPoint);
        TcpStream? stream = null;
        Eventually(() => accept.TryAccept(out stream), "accept");
        using (stream)
        {
            Assert.Equal(int.MaxValue, accept.MaxConnections);
            Assert.Equal(1, accept.OpenConnections);
        }
    }

    [Fact]
    public void Clients_over_the_cap_are_shed_and_served_again_once_one_closes()
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(LoopbackAny);
        IPEndPoint endpoint = listener.LocalEndPoint;
        var clients = Enumerable.Range(0, Clients).Select(_ => TcpStream.Connect(endpoint)).ToList(); // in the backlog
        // Leave room for about three connections once the loop has opened its reserve descriptor and its timer (two);
        // the cap is counted at the first TryAccept, not here.
        var options = new AcceptLoopOptions { DescriptorHeadroom = (int)(FreeDescriptors() - 2 - 3) };
        using var accept = new AcceptLoop(poll.Registry, listener, Listener, Retry, options);
        Assert.Equal(int.MaxValue, accept.MaxConnections); // not counted yet
        var accepted = new List<TcpStream>();
        try
        {
            Eventually(() =>
            {
                while (accept.TryAccept(out TcpStream? stream))
                {
                    accepted.Add(stream);
                }

                return accept.Accepted + accept.Shed == Clients;
            }, "every client accepted or shed");

            int cap = accept.MaxConnections;
            Assert.InRange(cap, 1, Clients - 1); // about 3; other threads of this process may have opened a few meanwhile
            Assert.Equal(cap, accepted.Count);
            Assert.Equal(cap, accept.OpenConnections);
            Assert.Equal(Clients - cap, accept.Shed);
            Assert.Equal(0, accept.Exhausted);

            // Shed means closed: every client over the cap hears end of stream (or a reset).
            Eventually(() => clients.Count(IsClosed) == Clients - cap, "every shed client sees its connection closed");

            // A connection leaves: one more is served, the next is shed again.
            accepted[0].Dispose();
            accepted.RemoveAt(0);
            accept.ConnectionClosed();
            Assert.Equal(cap - 1, accept.OpenConnections);

            clients.Add(TcpStream.Connect(endpoint));
            TcpStream? again = null;
            Eventually(() => accept.TryAccept(out again), "the client after a close is served");
            accepted.Add(again!);
            Assert.Equal(cap, accept.OpenConnections);
            Assert.Equal(cap, accept.MaxConnections); // counted once, never again
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            accepted.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void A_headroom_larger_than_the_budget_still_serves_one_client()
    {
        using var poll = new Poll();
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry,
            new AcceptLoopOptions { DescriptorHeadroom = int.MaxValue });
        var endpoint = (IPEndPoint)accept.LocalEndPoint;
        using var first = TcpStream.Connect(endpoint);
        using var second = TcpStream.Connect(endpoint);
        TcpStream? served = null;
        Eventually(() => accept.TryAccept(out served), "the first client is served");
        using (served)
        {
            Eventually(() => !accept.TryAccept(out TcpStream? _) && accept.Shed == 1, "the second client is shed");
            Assert.Equal(1, accept.MaxConnections);
            Assert.Equal(1, accept.Accepted);
            Eventually(() => IsClosed(first) != IsClosed(second), "one client is closed, the other served");
        }
    }

    [Fact]
    public void Closing_more_than_was_accepted_does_not_raise_the_cap()
    {
        using var poll = new Poll();
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry,
            new AcceptLoopOptions { DescriptorHeadroom = AcceptLoopOptions.SignalHeadroom });
        accept.ConnectionClosed();
        accept.ConnectionClosed();
        Assert.Equal(0, accept.OpenConnections);
    }

    [Fact]
    public void A_negative_headroom_is_refused()
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(LoopbackAny);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new AcceptLoop(poll.Registry, listener, Listener, Retry, new AcceptLoopOptions { DescriptorHeadroom = -1 }));
        Assert.Contains("DescriptorHeadroom", e.Message);
        poll.Registry.Register(listener, Listener, Interest.Readable); // left unregistered by the failure
    }

    private static bool IsClosed(TcpStream stream)
    {
        Span<byte> buffer = stackalloc byte[16];
        try
        {
            return stream.TryRead(buffer, out int read) && read == 0;
        }
        catch (SocketException)
        {
            return true; // reset: closed as well
        }
    }

    private static long FreeDescriptors()
    {
        // Finalize earlier tests' garbage first: descriptors it closes between this count and the loop's own (at the
        // first TryAccept) would raise the cap by as many.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        string soft = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            ["Max open files".Length..].TrimStart().Split(' ', 2)[0];
        return long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture) - (Directory.GetFileSystemEntries("/proc/self/fd").Length - 1);
    }
}
