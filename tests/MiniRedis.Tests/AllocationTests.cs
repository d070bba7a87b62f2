using System.Net;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Commands;
using MiniRedis.Protocol;
using MiniRedis.Server;
using MiniRedis.Storage;

namespace MiniRedis.Tests;

/// <summary>
/// Steady state allocates nothing per request for PING, GET, SET of an existing key and INCR (and the other
/// commands listed), measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/> around the protocol path
/// alone and around the server's own loop iterations (the loop runs on the test thread).
/// </summary>
public sealed class AllocationTests
{
    private static readonly string[][] HotCommands =
    [
        ["PING"], ["SET", "key:__rand_int__", "xxx"], ["GET", "key:__rand_int__"], ["INCR", "counter:__rand_int__"],
        ["MSET", "key:__rand_int__", "xxx", "key:__rand_int__", "xxx"], ["ECHO", "hello"], ["EXISTS", "key:__rand_int__"],
        ["DECR", "counter:__rand_int__"], ["INCRBY", "counter:__rand_int__", "5"], ["SET", "key:__rand_int__", "yyy", "PX", "100000"],
        ["PTTL", "key:__rand_int__"], ["GET", "missing"], ["MGET", "key:__rand_int__", "missing"],
    ];

    [Fact]
    public void The_protocol_path_allocates_nothing_per_request()
    {
        var session = new ClientSession(RespLimits.Default, new ClientState(1));
        var executor = new CommandExecutor(new Keyspace(Clock.Monotonic), new ServerSettings());
        var writer = new RespWriter();
        byte[] batch = Resp.Bytes(string.Concat(HotCommands.Select(Resp.Command)) + "PING\r\nGET key:__rand_int__\r\n");

        void Serve()
        {
            Span<byte> room = session.GetReadSpace();
            batch.CopyTo(room);
            session.Commit(batch.Length);
            if (session.Process(executor, writer, 64 * 1024) != SessionStatus.NeedInput || session.Buffered != 0)
            {
                throw new InvalidOperationException("the batch was not served whole");
            }

            writer.Clear();
        }

        for (int i = 0; i < 100; i++)
        {
            Serve();   // warm: keys exist, buffers grown, code jitted
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Serve();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated for {10_000 * (HotCommands.Length + 2)} requests");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void The_server_loop_allocates_nothing_per_request(int pipeline)
    {
        using var server = new MiniRedisServer(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(server.LocalEndPoint);
        while (server.OpenConnections == 0)
        {
            server.RunOnce(TimeSpan.FromSeconds(5));
        }

        // One round: reset the counter, then `pipeline` times PING, SET, GET, INCR, all in one write.
        var request = new StringBuilder(Resp.Command("SET", "counter:__rand_int__", "0"));
        var expected = new StringBuilder("+OK\r\n");
        for (int i = 1; i <= pipeline; i++)
        {
            request.Append(Resp.Command("PING")).Append(Resp.Command("SET", "key:__rand_int__", "xxx"))
                .Append(Resp.Command("GET", "key:__rand_int__")).Append(Resp.Command("INCR", "counter:__rand_int__"));
            expected.Append("+PONG\r\n+OK\r\n$3\r\nxxx\r\n:").Append(i).Append("\r\n");
        }

        byte[] requestBytes = Resp.Bytes(request.ToString());
        var replyBuffer = new byte[64 * 1024];
        long allocated = 0;

        int Exchange(byte[] bytes, int replyLength)
        {
            client.Send(bytes);
            int received = 0;
            DateTime deadline = DateTime.UtcNow.AddSeconds(10);
            while (received < replyLength)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{received} of {replyLength} reply bytes after 10 s");
                long before = GC.GetAllocatedBytesForCurrentThread();
                server.RunOnce(TimeSpan.FromMilliseconds(100));
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                while (client.Available > 0)
                {
                    received += client.Receive(replyBuffer, received, replyBuffer.Length - received, SocketFlags.None);
                }
            }

            return received;
        }

        for (int round = 0; round < 200; round++)
        {
            Assert.Equal(expected.Length, Exchange(requestBytes, expected.Length));
        }

        Assert.Equal(expected.ToString(), Resp.Text(replyBuffer.AsSpan(0, expected.Length)));
        allocated = 0;
        int requests = 0;
        for (int round = 0; round < 500; round++)
        {
            Exchange(requestBytes, expected.Length);
            requests += 1 + (4 * pipeline);
        }

        Assert.True(allocated == 0, $"{allocated} bytes allocated by the server loop for {requests} requests (pipeline {pipeline})");
        Assert.Equal(0, server.InternalErrors);
    }
}
