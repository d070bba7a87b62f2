using static Polling.Net.Servers.Tests.Helpers;
using static Polling.TestSupport.LoopbackPairs;

namespace Polling.Net.Servers.Tests;

public class OutputQueueTests
{
    [Fact]
    public void Enqueued_bytes_come_out_in_order_across_many_chunks_with_vectored_flushes()
    {
        var pool = new BufferPool(chunkSize: 256, maxRetained: 1000);
        var queue = new OutputQueue(highWaterMark: 1 << 20, pool);
        var (client, server) = TcpPair();
        using (client)
        using (server)
        {
            var data = new byte[100_000];
            new Random(7).NextBytes(data);
            var random = new Random(8);
            for (int offset = 0; offset < data.Length;)
            {
                int size = Math.Min(random.Next(1, 700), data.Length - offset);
                queue.Enqueue(data.AsSpan(offset, size));
                offset += size;
            }

            Assert.Equal(data.Length, queue.Length);
            var received = new byte[data.Length];
            int got = 0;
            DateTime end = DateTime.UtcNow + Deadline;
            while (got < data.Length)
            {
                queue.Flush(server);
                while (client.TryRead(received.AsSpan(got), out int n) && n > 0)
                {
                    got += n;
                }

                Assert.True(DateTime.UtcNow < end, $"received {got} of {data.Length}");
            }

            Assert.True(queue.IsEmpty);
            Assert.Equal(data, received);
            Assert.Equal(pool.Retained, (data.Length / 256) + 1); // every chunk went back to the pool
        }
    }

    [Fact]
    public void Get_span_and_advance_encode_in_place()
    {
        var queue = new OutputQueue(pool: new BufferPool(chunkSize: 256));
        for (int i = 0; i < 100; i++)
        {
            Span<byte> span = queue.GetSpan(10);
            Assert.True(span.Length >= 10);
            "0123456789"u8.CopyTo(span);
            queue.Advance(10);
        }

        Assert.Equal(1000, queue.Length);
        var (client, server) = TcpPair();
        using (client)
        using (server)
        {
            Assert.True(queue.Flush(server));
            var received = new byte[1000];
            ReadExactly(client, received);
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal("0123456789"u8.ToArray(), received.AsSpan(i * 10, 10).ToArray());
            }
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => queue.GetSpan(257));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Advance(-1));
    }

    [Fact]
    public void Write_goes_straight_out_when_nothing_waits()
    {
        var pool = new BufferPool();
        var queue = new OutputQueue(pool: pool);
        var (client, server) = TcpPair();
        using (client)
        using (server)
        {
            queue.Write(server, "hello"u8);
            Assert.True(queue.IsEmpty);
            Assert.Equal(0, pool.Retained); // no chunk was ever needed
            var reply = new byte[5];
            ReadExactly(client, reply);
            Assert.Equal("hello"u8.ToArray(), reply);
        }
    }

    /// <summary>
    /// A client that does not read: the server's queue fills past the high-water mark; UpdateInterest turns
    /// Writable on and Readable off; once the client reads, the queue drains, Writable goes off, Readable comes back
    /// and the data the client sent meanwhile is reported (no lost wake-up), on every backend and trigger.
    /// </summary>
    [Theory]
    [MemberData(nameof(BackendsAndTriggers), MemberType = typeof(Helpers))]
    public void The_high_water_mark_pauses_reading_and_writable_interest_follows_the_pending_output(PollBackend backend, Trigger trigger)
    {
        using var poll = new Poll(backend);
        var events = new Events(16);
        var (client, server) = TcpPair();
        using (client)
        using (server)
        {
            server.SendBufferSize = 4096;
            client.ReceiveBufferSize = 4096;
            const Token Conn = (Token)1;
            poll.Registry.Register(server, Conn, Interest.Readable, trigger);
            var queue = new OutputQueue(highWaterMark: 64 * 1024);
            var block = new byte[16 * 1024];
            while (!queue.IsAboveHighWaterMark)
            {
                queue.Write(server, block);
            }

            Assert.Equal(InterestUpdate.Reregistered, queue.UpdateInterest(poll.Registry, server, Conn, trigger));
            Assert.Equal(Interest.Writable, queue.RegisteredInterest);
            Assert.Equal(InterestUpdate.Unchanged, queue.UpdateInterest(poll.Registry, server, Conn, trigger));

            client.TryWrite("more"u8, out _); // arrives while reading is paused
            var sink = new byte[64 * 1024];
            long drained = 0;
            DateTime end = DateTime.UtcNow + Deadline;
            bool sawReadable = false;
            while (!sawReadable)
            {
                Assert.True(DateTime.UtcNow < end, $"drained {drained}, pending {queue.Length}, interest {queue.RegisteredInterest}");
                while (client.TryRead(sink, out int n) && n > 0)
                {
                    drained += n;
                }

                poll.Wait(events, TimeSpan.FromMilliseconds(20));
                foreach (Event ev in events)
                {
                    if (ev.IsWritable)
                    {
                        queue.Flush(server);
                    }

                    if (ev.IsReadable && queue.RegisteredInterest.HasFlag(Interest.Readable))
                    {
                        sawReadable = true;
                    }
                }

                queue.UpdateInterest(poll.Registry, server, Conn, trigger);
            }

            // Readable came back as soon as the backlog fell below the mark; now drain the rest: Writable goes off.
            Assert.False(queue.IsAboveHighWaterMark);
            while (!queue.IsEmpty)
            {
                Assert.True(DateTime.UtcNow < end, $"drained {drained}, pending {queue.Length}");
                while (client.TryRead(sink, out int n) && n > 0)
                {
                    drained += n;
                }

                poll.Wait(events, TimeSpan.FromMilliseconds(20));
                queue.Flush(server);
            }

            Assert.Equal(InterestUpdate.Reregistered, queue.UpdateInterest(poll.Registry, server, Conn, trigger));
            Assert.Equal(Interest.Readable, queue.RegisteredInterest);
            var request = new byte[4];
            Assert.True(server.TryRead(request, out int got));
            Assert.Equal("more"u8.ToArray(), request.AsSpan(0, got).ToArray());
        }
    }

    /// <summary>
    /// The three outcomes apart: a registration that already fits is <see cref="InterestUpdate.Unchanged"/> and makes
    /// no system call; a change is <see cref="InterestUpdate.Reregistered"/>; nothing to write and reading over is
    /// <see cref="InterestUpdate.Close"/>, which changes nothing either. "No system call" is proven by a stream
    /// that is not registered at all: a Reregister of it would throw.
    /// </summary>
    [Fact]
    public void Update_interest_tells_nothing_to_change_from_close_it()
    {
        using var poll = new Poll();
        var (client, server) = TcpPair();
        using (client)
        using (server)
        {
            var queue = new OutputQueue();
            Assert.Equal(InterestUpdate.Unchanged, queue.UpdateInterest(poll.Registry, server, (Token)1));
            Assert.Equal(InterestUpdate.Close, queue.UpdateInterest(poll.Registry, server, (Token)1, reading: false));
            Assert.Equal(Interest.Readable, queue.RegisteredInterest);

            poll.Registry.Register(server, (Token)1, Interest.Readable);
            queue.Enqueue("bye"u8);
            Assert.Equal(InterestUpdate.Reregistered, queue.UpdateInterest(poll.Registry, server, (Token)1, reading: false));
            Assert.Equal(Interest.Writable, queue.RegisteredInterest);   // output waits: not Close, although reading is over
            Assert.Equal(InterestUpdate.Unchanged, queue.UpdateInterest(poll.Registry, server, (Token)1, reading: false));

            Assert.True(queue.Flush(server));
            Assert.Equal(InterestUpdate.Close, queue.UpdateInterest(poll.Registry, server, (Token)1, reading: false));
            Assert.Equal(Interest.Writable, queue.RegisteredInterest);   // left as it was: the caller closes
            Assert.Equal(InterestUpdate.Reregistered, queue.UpdateInterest(poll.Registry, server, (Token)1, reading: true));
            Assert.Equal(Interest.Readable, queue.RegisteredInterest);
        }
    }

    [Fact]
    public void Clear_returns_the_chunks_and_readies_the_queue_for_the_next_connection()
    {
        var pool = new BufferPool(chunkSize: 1024);
        var queue = new OutputQueue(highWaterMark: 10, pool);
        queue.Enqueue(new byte[5000]);
        Assert.True(queue.IsAboveHighWaterMark);
        queue.Clear();
        Assert.True(queue.IsEmpty);
        Assert.False(queue.IsAboveHighWaterMark);
        Assert.Equal(5, pool.Retained);
        Assert.Equal(Interest.Readable, queue.RegisteredInterest);
    }

    [Fact]
    public void Buffer_pool_refuses_foreign_chunks_and_keeps_at_most_its_limit()
    {
        var pool = new BufferPool(chunkSize: 256, maxRetained: 2);
        Assert.Throws<ArgumentException>(() => pool.Return(new byte[100]));
        pool.Return(pool.Rent());
        pool.Return(new byte[256]);
        pool.Return(new byte[256]);
        Assert.Equal(2, pool.Retained);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BufferPool(chunkSize: 10));
    }

    [Fact]
    public void Flushing_a_reset_connection_throws_socket_exception()
    {
        var (client, server) = TcpPair();
        using (server)
        {
            client.Linger = TimeSpan.Zero;
            client.Dispose(); // RST
            var queue = new OutputQueue();
            queue.Enqueue(new byte[100]);
            Eventually(() =>
            {
                try
                {
                    queue.Flush(server);
                    queue.Enqueue(new byte[100]);
                    return false;
                }
                catch (SocketException e)
                {
                    return e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown;
                }
            }, "the reset surfaces as SocketException");
        }
    }
}
