using static Polling.Net.Servers.Tests.Helpers;
using static Polling.TestSupport.LoopbackPairs;

namespace Polling.Net.Servers.Tests;

public class ConnectionTableTests
{
    private sealed class Conn(int id)
    {
        public int Id { get; } = id;
    }

    [Fact]
    public void Added_connections_are_found_by_their_tokens_and_tokens_start_at_the_base()
    {
        var table = new ConnectionTable<Conn>((Token)16, capacity: 2);
        var tokens = new List<Token>();
        for (int i = 0; i < 100; i++)
        {
            tokens.Add(table.Add(new Conn(i)));
        }

        Assert.Equal(100, table.Count);
        Assert.True(table.Capacity >= 100);
        Assert.Equal(100, tokens.Distinct().Count());
        for (int i = 0; i < 100; i++)
        {
            Assert.True((ulong)tokens[i] >= 16, "table tokens never collide with reserved ones");
            Assert.True(table.TryGet(tokens[i], out Conn? found));
            Assert.Equal(i, found.Id);
            Assert.Same(found, table[tokens[i]]);
        }

        for (ulong reserved = 0; reserved < 16; reserved++)
        {
            Assert.False(table.TryGet((Token)reserved, out _));
        }
    }

    [Fact]
    public void A_removed_token_goes_stale_even_when_its_slot_is_reused()
    {
        var table = new ConnectionTable<Conn>((Token)8, capacity: 1);
        Token first = table.Add(new Conn(1));
        Assert.True(table.Remove(first, out Conn? removed));
        Assert.Equal(1, removed.Id);
        Token second = table.Add(new Conn(2));

        Assert.NotEqual(first, second);
        Assert.Equal(1, table.Capacity); // the slot was reused
        Assert.False(table.TryGet(first, out _), "a late event for the closed connection is not delivered to the new one");
        Assert.False(table.Contains(first));
        Assert.False(table.Remove(first));
        Assert.Equal(2, table[second].Id);
        Assert.Throws<KeyNotFoundException>(() => table[first]);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Tokens_that_were_never_issued_are_not_found()
    {
        var table = new ConnectionTable<Conn>((Token)100);
        Token token = table.Add(new Conn(0));
        Assert.False(table.TryGet((Token)((ulong)token + 1), out _));
        Assert.False(table.TryGet((Token)((ulong)token + (1UL << 32)), out _), "another generation of the same slot");
        Assert.False(table.TryGet((Token)ulong.MaxValue, out _));
        Assert.False(table.TryGet((Token)99, out _));
    }

    [Fact]
    public void Enumeration_visits_every_connection_and_allows_removal()
    {
        var table = new ConnectionTable<Conn>((Token)4);
        var tokens = Enumerable.Range(0, 10).Select(i => table.Add(new Conn(i))).ToList();
        table.Remove(tokens[3]);
        var seen = new List<int>();
        foreach (KeyValuePair<Token, Conn> entry in table)
        {
            Assert.Same(entry.Value, table[entry.Key]);
            seen.Add(entry.Value.Id);
            Assert.True(table.Remove(entry.Key)); // shutdown: close everything while iterating
        }

        Assert.Equal([0, 1, 2, 4, 5, 6, 7, 8, 9], seen);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Add_and_remove_allocate_nothing_once_grown()
    {
        var table = new ConnectionTable<Conn>((Token)16, capacity: 4);
        var conns = Enumerable.Range(0, 64).Select(i => new Conn(i)).ToArray();
        var tokens = new Token[conns.Length];
        for (int round = 0; round < 2; round++)
        {
            Churn();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100; round++)
        {
            Churn();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Churn()
        {
            for (int i = 0; i < conns.Length; i++)
            {
                tokens[i] = table.Add(conns[i]);
            }

            foreach (KeyValuePair<Token, Conn> entry in table)
            {
                _ = entry.Value.Id;
            }

            for (int i = 0; i < conns.Length; i++)
            {
                Assert.True(table.TryGet(tokens[i], out _));
                table.Remove(tokens[i]);
            }
        }
    }

    [Fact]
    public void Misuse_gets_clear_exceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionTable<Conn>((Token)0, capacity: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionTable<Conn>((Token)ulong.MaxValue));
        Assert.Throws<ArgumentNullException>(() => new ConnectionTable<Conn>((Token)0).Add(null!));
    }

    /// <summary>
    /// The case the generation exists for, with a real Poll: two connections are ready in one batch; handling the
    /// first closes the second and accepts a newcomer into the freed slot; the second's event, later in the same
    /// batch, must not reach the newcomer. On both backends.
    /// </summary>
    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_late_event_in_the_same_batch_is_not_delivered_to_the_slots_new_occupant(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var table = new ConnectionTable<TcpStream>((Token)16);
        var (clientA, serverA) = TcpPair();
        var (clientB, serverB) = TcpPair();
        var (clientC, serverC) = TcpPair();
        using (clientA)
        using (clientB)
        using (clientC)
        using (serverC)
        {
            Token a = table.Add(serverA);
            Token b = table.Add(serverB);
            poll.Registry.Register(serverA, a, Interest.Readable);
            poll.Registry.Register(serverB, b, Interest.Readable);
            clientA.TryWrite("a"u8, out _);
            clientB.TryWrite("b"u8, out _);

            var events = new Events(8);
            DateTime end = DateTime.UtcNow + Deadline;
            while (poll.Wait(events, TimeSpan.FromMilliseconds(50)) < 2)
            {
                Assert.True(DateTime.UtcNow < end, "both connections became readable in one batch");
            }

            int delivered = 0;
            Token? closed = null;
            foreach (Event ev in events)
            {
                if (closed is { } gone && ev.Token == gone)
                {
                    Assert.False(table.TryGet(ev.Token, out TcpStream? wrong), $"the late event reached {wrong}");
                    continue;
                }

                Assert.True(table.TryGet(ev.Token, out TcpStream? current));
                delivered++;

                // Handling this event closes the other connection, and a newcomer takes its slot at once.
                Token other = ev.Token == a ? b : a;
                Assert.True(table.Remove(other, out TcpStream? victim));
                victim.Dispose();
                Token newcomer = table.Add(serverC);
                Assert.NotEqual(other, newcomer);
                Assert.Equal(2, table.Count);
                closed = other;
            }

            Assert.Equal(1, delivered);
            foreach (KeyValuePair<Token, TcpStream> entry in table)
            {
                if (entry.Value != serverC)
                {
                    entry.Value.Dispose();
                }
            }
        }
    }
}
