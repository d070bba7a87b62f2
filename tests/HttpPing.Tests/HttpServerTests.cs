using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Polling.Net;

namespace HttpPing.Tests;

/// <summary>The server end to end, through real sockets on 127.0.0.1.</summary>
public class HttpServerTests
{
    private const string Ping = "GET /ping HTTP/1.1\r\nHost: test\r\n\r\n";

    [Fact]
    public void Ping_is_answered_with_pong_and_the_connection_stays_open()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        for (int i = 0; i < 3; i++)
        {
            client.Send(Ping);
            Response response = client.Read();
            Assert.Equal(200, response.Status);
            Assert.Equal("PONG", response.Body);
            Assert.Equal("4", response.Header("content-length"));
            Assert.Null(response.Header("connection"));
            Assert.True(DateTimeOffset.TryParse(response.Header("date"), out DateTimeOffset date), "a Date header");
            Assert.InRange(date, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        }

        Assert.Equal(1, server.Server.AcceptedConnections);
    }

    [Fact]
    public void Other_paths_are_404_other_methods_405_and_head_has_no_body()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send("GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.Equal(404, client.Read().Status);
        client.Send("POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
        Response post = client.Read();
        Assert.Equal(405, post.Status);
        Assert.Equal("GET, HEAD", post.Header("allow"));
        client.Send("HEAD /ping HTTP/1.1\r\nHost: t\r\n\r\n");
        Response head = client.Read(head: true);
        Assert.Equal(200, head.Status);
        Assert.Equal("4", head.Header("content-length"));
        client.Send(Ping); // the HEAD response had no body: the next response starts right after its head
        Assert.Equal("PONG", client.Read().Body);
    }

    [Fact]
    public void Sixteen_pipelined_requests_in_one_write_get_sixteen_responses_in_order()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        var batch = new StringBuilder();
        for (int i = 0; i < 16; i++)
        {
            batch.Append(i % 4 == 3 ? $"GET /missing/{i} HTTP/1.1\r\nHost: t\r\n\r\n" : Ping);
        }

        for (int round = 0; round < 3; round++)
        {
            client.Send(batch.ToString());
            for (int i = 0; i < 16; i++)
            {
                Assert.Equal(i % 4 == 3 ? 404 : 200, client.Read().Status);
            }
        }
    }

    [Fact]
    public void A_request_split_into_one_byte_writes_is_answered()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        byte[] request = Encoding.ASCII.GetBytes("GET /ping HTTP/1.1\r\nHost: test\r\nUser-Agent: drip\r\n\r\n" + Ping);
        foreach (byte b in request)
        {
            client.Send([b]);
        }

        Assert.Equal("PONG", client.Read().Body);
        Assert.Equal("PONG", client.Read().Body);
    }

    [Fact]
    public void Many_pipelined_requests_from_a_client_that_reads_late_are_all_answered()
    {
        // 20,000 requests (~700 KB) before reading anything: the server pauses reading above its output high-water
        // mark and resumes as the client reads; every answer arrives, in order.
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        const int Count = 20_000;
        byte[] requests = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Ping, Count)));
        var sender = new Thread(() => client.Send(requests));
        sender.Start();
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal("PONG", client.Read().Body);
        }

        Assert.True(sender.Join(RawClient.Deadline));
    }

    [Fact]
    public void A_client_that_pipelines_without_ever_reading_holds_bounded_output()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Socket.Blocking = false;
        byte[] requests = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Ping, 1000)));
        int high = OutputQueue.DefaultHighWaterMark;
        bool paused = WaitFor(() =>
        {
            // Keep writing while the kernel takes it; the server must stop reading once its queue is above the mark.
            while (client.Socket.Send(requests, 0, requests.Length, SocketFlags.None, out SocketError error) > 0 && error == SocketError.Success)
            {
            }

            return server.Server.PeakQueuedBytes >= high;
        });

        Assert.True(paused, $"the queue reached the high-water mark (peak {server.Server.PeakQueuedBytes})");
        int responseLength = new HttpResponses().For(new HttpRequest(HttpMethod.Get, true, true, false)).Length;
        int bound = high + ((new HttpServerOptions().ReadBufferSize / Ping.Length) + 1) * responseLength;
        Assert.True(server.Server.PeakQueuedBytes <= bound, $"peak {server.Server.PeakQueuedBytes} > bound {bound}");
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\nBad Header: x\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/3.0\r\nHost: t\r\n\r\n", 505)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n", 413)]
    public void ProtocolErrorsAreAnsweredAndTheConnectionClosed(string request, int status)
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send(request + Ping); // the ping after the bad request is never answered
        Response response = client.Read();
        Assert.Equal(status, response.Status);
        Assert.Equal("close", response.Header("connection"));
        Assert.True(client.ReadsEndOfStream(), "closed after the error");
        AssertServerLives(server);
    }

    [Fact]
    public void A_header_block_over_the_limit_is_431_even_while_the_client_keeps_sending()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send("GET /ping HTTP/1.1\r\nHost: t\r\n");
        var padding = new StringBuilder();
        while (padding.Length < 20_000)
        {
            padding.Append("X-Padding: 0123456789012345678901234567890123456789\r\n");
        }

        client.Send(padding.ToString()); // more than the server reads before refusing: it must not reset the answer away
        Response response = client.Read();
        Assert.Equal(431, response.Status);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.True(client.ReadsEndOfStream());
        AssertServerLives(server);
    }

    [Fact]
    public void A_long_request_line_is_414()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send("GET /" + new string('a', 10_000) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.Equal(414, client.Read().Status);
        Assert.True(client.ReadsEndOfStream());
    }

    [Fact]
    public void A_body_within_the_limit_is_skipped_and_the_connection_goes_on()
    {
        using var server = new RunningServer(new HttpServerOptions { MaxBodyBytes = 100_000 });
        using RawClient client = server.Connect();
        client.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
        client.Send(new byte[100_000]);
        client.Send("POST /ping HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + Ping);
        Assert.Equal(404, client.Read().Status);
        Assert.Equal(405, client.Read().Status);
        Assert.Equal("PONG", client.Read().Body);
        client.Send("POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 100001\r\n\r\n");
        Assert.Equal(413, client.Read().Status);
        Assert.True(client.ReadsEndOfStream());
    }

    [Fact]
    public void Expect_continue_gets_100_before_the_client_sends_the_body()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send("POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(100, client.Read().Status);
        client.Send("hello");
        Assert.Equal(405, client.Read().Status);
        client.Send("POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(413, client.Read().Status); // refused at once: no 100, the body is never sent
    }

    [Fact]
    public void Connection_close_is_honoured_and_what_follows_is_ignored()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send(Ping + "GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + Ping);
        Assert.Equal("PONG", client.Read().Body);
        Response last = client.Read();
        Assert.Equal("PONG", last.Body);
        Assert.Equal("close", last.Header("connection"));
        Assert.True(client.ReadsEndOfStream(), "no third response, and the server closes");
    }

    [Fact]
    public void Http_10_closes_unless_keep_alive_is_asked()
    {
        using var server = new RunningServer();
        using (RawClient client = server.Connect())
        {
            client.Send("GET /ping HTTP/1.0\r\n\r\n");
            Response response = client.Read();
            Assert.Equal("PONG", response.Body);
            Assert.Equal("close", response.Header("connection"));
            Assert.True(client.ReadsEndOfStream());
        }

        using (RawClient client = server.Connect())
        {
            for (int i = 0; i < 2; i++)
            {
                client.Send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                Response response = client.Read();
                Assert.Equal("PONG", response.Body);
                Assert.Equal("keep-alive", response.Header("connection"));
            }
        }
    }

    [Fact]
    public void The_server_answers_what_a_half_closed_client_sent()
    {
        using var server = new RunningServer();
        using RawClient client = server.Connect();
        client.Send(Ping + Ping);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("PONG", client.Read().Body);
        Assert.Equal("PONG", client.Read().Body);
        Assert.True(client.ReadsEndOfStream());
    }

    [Fact]
    public void Slow_clients_are_closed_after_the_idle_time_even_while_they_trickle()
    {
        TimeSpan idle = TimeSpan.FromMilliseconds(300);
        using var server = new RunningServer(new HttpServerOptions { IdleTimeout = idle });
        var clock = Stopwatch.StartNew(); // before the connects: the server starts each deadline at accept, later
        using RawClient silent = server.Connect();
        using RawClient slowloris = server.Connect();

        // The slowloris sends a header byte every 50 ms and never finishes; it is closed like the silent one.
        byte[] drip = Encoding.ASCII.GetBytes("GET /ping HTTP/1.1\r\nHost: t\r\nX-Slow: " + new string('a', 1000));
        bool closed = false;
        for (int i = 0; i < drip.Length && !closed && clock.Elapsed < RawClient.Deadline; i++)
        {
            try
            {
                slowloris.Send(drip.AsSpan(i, 1));
            }
            catch (SocketException)
            {
                closed = true; // reset: the server closed it and an earlier byte hit the closed socket
                break;
            }

            closed = slowloris.Socket.Poll(50_000, SelectMode.SelectRead); // readable = end of stream here
        }

        Assert.True(closed, "the trickling client was closed");
        Assert.True(clock.Elapsed >= idle, $"not before its idle time ({clock.Elapsed})");
        Assert.True(silent.ReadsEndOfStream(), "the silent client was closed");
        Assert.True(WaitFor(() => server.Server.IdleClosed == 2), $"idle closes: {server.Server.IdleClosed}");
    }

    [Fact]
    public void A_kept_alive_connection_is_closed_once_idle_after_its_last_response()
    {
        TimeSpan idle = TimeSpan.FromSeconds(1);
        using var server = new RunningServer(new HttpServerOptions { IdleTimeout = idle });
        using RawClient client = server.Connect();
        var clock = Stopwatch.StartNew(); // before the request: the server restarts the deadline after it, later
        client.Send(Ping);
        Assert.Equal("PONG", client.Read().Body);
        Assert.True(client.ReadsEndOfStream(), "closed when idle");
        Assert.True(clock.Elapsed >= idle, $"not before its idle time ({clock.Elapsed})");
        Assert.Equal(1, server.Server.IdleClosed);
    }

    [Fact]
    public void A_batch_of_answers_flushed_in_one_write_allocates_nothing()
    {
        // Client and server on this thread, driven step by step: steady-state work allocates nothing.
        using var server = new HttpServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        using var client = Polling.Net.TcpStream.Connect(server.LocalEndPoint);
        client.NoDelay = true;
        byte[] batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 16)));
        int responseLength = new HttpResponses().For(new HttpRequest(HttpMethod.Get, true, true, false)).Length;
        var received = new byte[64 * 1024];

        void RoundTrip()
        {
            if (!client.TryWrite(batch, out int written) || written != batch.Length)
            {
                throw new InvalidOperationException("the batch did not fit in the socket buffer");
            }

            int got = 0;
            long deadline = Environment.TickCount64 + 10_000;
            while (got < 16 * responseLength)
            {
                server.RunOnce(TimeSpan.FromMilliseconds(10));
                while (client.TryRead(received.AsSpan(got), out int read) && read > 0)
                {
                    got += read;
                }

                if (Environment.TickCount64 > deadline || got > 16 * responseLength)
                {
                    throw new InvalidOperationException($"got {got} bytes of 16 responses"); // (Assert.Equal allocates)
                }
            }
        }

        while (server.OpenConnections == 0)
        {
            server.RunOnce(TimeSpan.FromMilliseconds(10));
        }

        for (int i = 0; i < 2000; i++)
        {
            RoundTrip(); // warm up: JIT tiers, pools, the connection table, the wheel
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5000; i++)
        {
            RoundTrip();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(16 * 7000, server.Requests);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(Polling.PollBackend.Epoll)]
    [InlineData(Polling.PollBackend.Poll)]
    public void Pipelined_split_and_half_closed_traffic_works_on_both_backends(Polling.PollBackend backend)
    {
        using var server = new RunningServer(new HttpServerOptions { Backend = backend, ReadBufferSize = 1000 });
        using (RawClient client = server.Connect())
        {
            // 500 requests in one write, read by the server 1000 bytes at a time: full reads must be followed by more.
            client.Send(string.Concat(Enumerable.Repeat(Ping, 500)));
            for (int i = 0; i < 500; i++)
            {
                Assert.Equal("PONG", client.Read().Body);
            }

            byte[] split = Encoding.ASCII.GetBytes(Ping);
            client.Send(split.AsSpan(0, 7));
            client.Send(split.AsSpan(7));
            Assert.Equal("PONG", client.Read().Body);
            client.Send(Ping + Ping);
            client.Socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("PONG", client.Read().Body);
            Assert.Equal("PONG", client.Read().Body);
            Assert.True(client.ReadsEndOfStream());
        }

        Assert.Equal(0, WaitFor(() => server.Server.OpenConnections == 0) ? 0 : server.Server.OpenConnections);
    }

    [Fact]
    public void Two_hundred_concurrent_clients_each_pipelining_are_all_served()
    {
        using var server = new RunningServer();
        var clients = new List<RawClient>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                clients.Add(server.Connect());
            }

            for (int round = 0; round < 3; round++)
            {
                foreach (RawClient client in clients)
                {
                    client.Send(Ping + "GET /x HTTP/1.1\r\nHost: t\r\n\r\n" + Ping);
                }

                foreach (RawClient client in clients)
                {
                    Assert.Equal(200, client.Read().Status);
                    Assert.Equal(404, client.Read().Status);
                    Assert.Equal(200, client.Read().Status);
                }
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.True(WaitFor(() => server.Server.OpenConnections == 0), $"{server.Server.OpenConnections} still open");
    }

    [Fact]
    public void Random_bytes_from_many_clients_never_bring_the_server_down()
    {
        using var server = new RunningServer(new HttpServerOptions { MaxHeaderBytes = 512, MaxBodyBytes = 1000 });
        var random = new Random(20261201);
        string[] pieces = ["GET /ping HTTP/1.1\r\n", "Host: t\r\n", "\r\n", "Content-Length: 7\r\n", "Transfer-Encoding: chunked\r\n", "5\r\n", "\0", " ", ":"];
        for (int i = 0; i < 100; i++)
        {
            using RawClient client = server.Connect();
            var bytes = new List<byte>();
            while (bytes.Count < 2000)
            {
                if (random.Next(3) == 0)
                {
                    var junk = new byte[random.Next(1, 50)];
                    random.NextBytes(junk);
                    bytes.AddRange(junk);
                }
                else
                {
                    bytes.AddRange(Encoding.ASCII.GetBytes(pieces[random.Next(pieces.Length)]));
                }
            }

            try
            {
                client.Send(bytes.ToArray());
                client.Socket.Shutdown(SocketShutdown.Send);
                client.DrainToEnd(); // whatever the server answered, until it closes
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
            {
                // the server closed after an error while we were still sending: fine
            }
        }

        AssertServerLives(server);
        Assert.True(server.Server.ProtocolErrors > 0);
        Assert.True(WaitFor(() => server.Server.OpenConnections <= 1), $"{server.Server.OpenConnections} still open");
    }

    private static bool WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > RawClient.Deadline)
            {
                return false;
            }

            Thread.Sleep(10); // polling a counter with a deadline; correctness does not depend on the interval
        }

        return true;
    }

    private static void AssertServerLives(RunningServer server)
    {
        using RawClient client = server.Connect();
        client.Send(Ping);
        Assert.Equal("PONG", client.Read().Body);
    }
}
