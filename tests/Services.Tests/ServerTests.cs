using System.Net;
using System.Text;
using Polling.Net;
using Polling.Services;
using Polling.Services.Http;
using Xunit;
using Xunit.Abstractions;

namespace Services.Tests;

public class ServerTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    [Fact]
    public void Answers_ping_over_tcp()
    {
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), PingService()));
        loop.Start();

        using var client = new RawHttp(server.LocalEndPoint);
        client.Send(RawHttp.Get("/ping"));
        (int status, _, string body) = client.Read();
        Assert.Equal(200, status);
        Assert.Equal("PONG", body);
    }

    [Fact]
    public void Pipelined_requests_are_answered_in_order_whatever_order_their_tasks_complete_in()
    {
        var slow1 = new TaskCompletionSource<HttpResponse>();
        var slow2 = new TaskCompletionSource<HttpResponse>();
        int calls = 0;
        Service<HttpRequest, HttpResponse> service = Service.From((HttpRequest r) => Interlocked.Increment(ref calls) > 0 ? r.Path switch
        {
            "/slow1" => new ValueTask<HttpResponse>(slow1.Task),
            "/slow2" => new ValueTask<HttpResponse>(slow2.Task),
            _ => new ValueTask<HttpResponse>(HttpResponse.Text(200, r.Path)),
        } : default);
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), service));
        loop.Start();

        using var client = new RawHttp(server.LocalEndPoint);
        client.Send(RawHttp.Get("/slow1") + RawHttp.Get("/fast") + RawHttp.Get("/slow2") + RawHttp.Get("/fast2"));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref calls) == 4, TimeSpan.FromSeconds(10)));

        // Completed from this thread, not the loop's: the results travel back through the server's channel source.
        slow2.SetResult(HttpResponse.Text(200, "/slow2"));
        slow1.SetResult(HttpResponse.Text(200, "/slow1"));

        Assert.Equal("/slow1", client.Read().Body);
        Assert.Equal("/fast", client.Read().Body);
        Assert.Equal("/slow2", client.Read().Body);
        Assert.Equal("/fast2", client.Read().Body);
        Assert.Equal(4, server.AnsweredLater); // all four waited behind /slow1
    }

    [Fact]
    public void A_failing_service_is_answered_500_or_504_and_the_connection_lives_on()
    {
        Service<HttpRequest, HttpResponse> service = Service.From((HttpRequest r) => r.Path == "/throw"
            ? throw new InvalidOperationException("bug")
            : ValueTask.FromException<HttpResponse>(new TimeoutException()));
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), service));
        loop.Start();

        using var client = new RawHttp(server.LocalEndPoint);
        client.Send(RawHttp.Get("/throw") + RawHttp.Get("/late"));
        Assert.Equal(500, client.Read().Status);
        Assert.Equal(504, client.Read().Status);
    }

    [Fact]
    public void Bad_input_is_answered_400_the_connection_closed_and_the_server_serves_on()
    {
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), PingService()));
        loop.Start();

        using (var bad = new RawHttp(server.LocalEndPoint))
        {
            bad.Send(RawHttp.Get("/ping") + "NONSENSE\r\n\r\n" + RawHttp.Get("/ping"));
            Assert.Equal(200, bad.Read().Status);    // the request before the bad one is still answered
            (int status, string headers, _) = bad.Read();
            Assert.Equal(400, status);
            Assert.Contains("Connection: close", headers);
            Assert.True(bad.ReadsEndOfStream());
        }

        using var good = new RawHttp(server.LocalEndPoint);
        good.Send(RawHttp.Get("/ping"));
        Assert.Equal(200, good.Read().Status);
        Assert.Equal(1, server.ProtocolErrors);
    }

    [Fact]
    public void Shutdown_answers_the_requests_already_sent_refuses_new_clients_and_ends_each_connection_in_order()
    {
        var service = new SlowPath();
        using var loop = new ServiceLoop();
        using var server = new ServiceServer<HttpRequest, HttpResponse>(loop, AnyLoopback, new HttpServerCodec(), service);
        using var busy = new RawHttp(server.LocalEndPoint);
        using var idle = new RawHttp(server.LocalEndPoint);
        Drive.Until(loop, () => server.OpenConnections == 2);
        busy.Send(RawHttp.Get("/slow") + RawHttp.Get("/ping")); // in the socket before the shutdown, which reads it

        // The clients act on their own threads while this one runs the shutdown: each reads to the end and closes.
        Task<string> busyGot = Task.Run(() => ReadAnswersThenClose(busy));
        Task<bool> idleEnded = Task.Run(() =>
        {
            bool ended = idle.ReadsEndOfStream();
            idle.Dispose();
            return ended;
        });
        Task answer = Task.Run(() =>
        {
            Assert.True(SpinWait.SpinUntil(() => service.Calls == 1, TimeSpan.FromSeconds(10)));
            service.Answer.SetResult(HttpResponse.Text(200, "late")); // from another thread, while the server shuts down
        });

        Assert.True(server.Shutdown(TimeSpan.FromSeconds(10)), "every connection finished within the grace");
        Assert.Equal("late PONG end", busyGot.Result);
        Assert.True(idleEnded.Result, "the idle client got an orderly end of stream");
        answer.GetAwaiter().GetResult();
        Assert.Equal(0, server.OpenConnections);
        Assert.Throws<System.Net.Sockets.SocketException>(() => new RawHttp(server.LocalEndPoint).Dispose()); // no longer accepting

        static string ReadAnswersThenClose(RawHttp c)
        {
            string first = c.Read().Body, second = c.Read().Body;
            string end = c.ReadsEndOfStream() ? "end" : "more";
            c.Dispose();
            return $"{first} {second} {end}";
        }
    }

    [Fact]
    public void A_client_that_resets_with_an_answer_pending_costs_only_its_own_connection()
    {
        var service = new SlowPath();
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), service));
        loop.Start();

        using (var doomed = new RawHttp(server.LocalEndPoint))
        {
            doomed.Send(RawHttp.Get("/slow"));
            Assert.True(SpinWait.SpinUntil(() => service.Calls == 1, TimeSpan.FromSeconds(10)));
            doomed.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // close = RST
        }

        service.Answer.SetResult(HttpResponse.Text(200, "late")); // the answer for a connection that is gone
        using var client = new RawHttp(server.LocalEndPoint);
        client.Send(RawHttp.Get("/ping"));
        Assert.Equal("PONG", client.Read().Body);
        Assert.True(SpinWait.SpinUntil(() => server.OpenConnections == 1, TimeSpan.FromSeconds(10)), "the reset connection was not closed");
    }

    [Fact]
    public void Connection_close_is_honoured_after_the_answer()
    {
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<HttpRequest, HttpResponse>(loop.Loop, AnyLoopback, new HttpServerCodec(), PingService()));
        loop.Start();

        using var client = new RawHttp(server.LocalEndPoint);
        client.Send("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n");
        Assert.Equal("PONG", client.Read().Body);
        Assert.True(client.ReadsEndOfStream());
    }

    [Fact]
    public void Synchronous_answers_allocate_nothing_on_the_loop_thread()
    {
        // The loop, the server and a Polling client all on this thread, so the thread's allocation counter sees
        // everything the server does per request: read, parse, service (stats filter + router), encode, write.
        using var loop = new ServiceLoop();
        var stats = new ServiceStats("ping");
        using var server = new ServiceServer<HttpRequest, HttpResponse>(
            loop, AnyLoopback, new HttpServerCodec(), new StatsFilter<HttpRequest, HttpResponse>(stats).AndThen(PingService()));
        using TcpStream client = TcpStream.Connect(server.LocalEndPoint);
        Drive.Until(loop, () => server.OpenConnections == 1);

        byte[] request = Encoding.ASCII.GetBytes(RawHttp.Get("/ping"));
        byte[] response = new byte[4096];
        int expected = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\nPONG".Length;

        void RoundTrip()
        {
            Assert.True(client.TryWrite(request, out int written) && written == request.Length);
            int received = 0;
            DateTime deadline = DateTime.UtcNow.AddSeconds(10);
            while (received < expected)
            {
                loop.RunOnce(TimeSpan.FromMilliseconds(1));
                if (client.TryRead(response.AsSpan(received), out int read))
                {
                    received += read;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("no answer");
                }
            }
        }

        for (int i = 0; i < 500; i++)
        {
            RoundTrip();
        }

        const int Requests = 5_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Requests; i++)
        {
            RoundTrip();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{allocated} bytes allocated over {Requests} synchronous requests ({(double)allocated / Requests:0.00} B/request)");
        Assert.Equal(0, allocated);
        Assert.Equal(5_500, server.AnsweredAtOnce);
        Assert.Equal(0, server.AnsweredLater);
    }

    [Fact]
    public void A_connection_with_too_many_answers_pending_is_not_read_until_they_go_out()
    {
        var held = new HeldService<HttpRequest, HttpResponse>();
        using var loop = new ServiceLoop();
        using var server = new ServiceServer<HttpRequest, HttpResponse>(loop, AnyLoopback, new HttpServerCodec(), held, new ServerOptions { MaxPipelined = 2 });
        using TcpStream client = TcpStream.Connect(server.LocalEndPoint);
        Drive.Until(loop, () => server.OpenConnections == 1);

        byte[] five = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(RawHttp.Get("/x"), 5)));
        Assert.True(client.TryWrite(five, out _));
        Drive.Until(loop, () => held.Calls == 2);
        for (int i = 0; i < 10; i++)
        {
            loop.RunOnce(TimeSpan.Zero);
        }

        Assert.Equal(2, held.Calls); // paused at the bound

        held.Answer(_ => HttpResponse.Pong);
        held.Answer(_ => HttpResponse.Pong);
        Drive.Until(loop, () => held.Calls == 4);
        held.Answer(_ => HttpResponse.Pong);
        held.Answer(_ => HttpResponse.Pong);
        Drive.Until(loop, () => held.Calls == 5);
        held.Answer(_ => HttpResponse.Pong);
        Drive.Until(loop, () => server.AnsweredLater == 5);
    }

    /// <summary>Answers <c>/slow</c> when the test completes <see cref="Answer"/> (and counts those calls), anything else with PONG at once.</summary>
    private sealed class SlowPath : Service<HttpRequest, HttpResponse>
    {
        private int _calls;

        public TaskCompletionSource<HttpResponse> Answer { get; } = new();

        public int Calls => Volatile.Read(ref _calls);

        public override ValueTask<HttpResponse> InvokeAsync(HttpRequest request)
        {
            if (request.Path != "/slow")
            {
                return new ValueTask<HttpResponse>(HttpResponse.Pong);
            }

            Interlocked.Increment(ref _calls);
            return new ValueTask<HttpResponse>(Answer.Task);
        }
    }

    private static Service<HttpRequest, HttpResponse> PingService() =>
        Service.From((HttpRequest r) => new ValueTask<HttpResponse>(r.PathBytes.SequenceEqual("/ping"u8) ? HttpResponse.Pong : HttpResponse.Text(404, "no")));
}
