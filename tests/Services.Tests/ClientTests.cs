using System.Net;
using Polling.Services;
using Polling.Services.Lines;
using ServicesDemo;
using Xunit;

namespace Services.Tests;

/// <summary>The client side, with servers and client on one loop driven by the test thread.</summary>
public class ClientTests
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    [Fact]
    public void The_same_timeline_service_answers_alike_in_process_and_over_tcp()
    {
        using var loop = new ServiceLoop();
        var users = new UserService();
        var posts = new PostService(loop);

        // In-process: the backend objects themselves.
        var direct = new TimelineService(users, posts);

        // Over TCP: the same objects exposed by servers, reached through clients of the same Service type.
        using var userServer = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), users);
        using var postServer = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), posts);
        using var userClient = new ServiceClient<string, string>(loop, [userServer.LocalEndPoint], new LineClientCodec());
        using var postClient = new ServiceClient<string, string>(loop, [postServer.LocalEndPoint], new LineClientCodec());
        var remote = new TimelineService(userClient, postClient);

        var request = new Polling.Services.Http.AuthenticatedRequest(Polling.Services.Http.HttpRequest.Get("/timeline/Alice"), "demo");
        string inProcess = Drive.Result(loop, direct.InvokeAsync(request)).BodyText;
        string overTcp = Drive.Result(loop, remote.InvokeAsync(request)).BodyText;

        Assert.Equal(inProcess, overTcp);
        Assert.StartsWith("""{"user":"alice","posts":[""", overTcp);
    }

    [Fact]
    public void Requests_go_to_the_host_with_the_fewest_outstanding()
    {
        using var loop = new ServiceLoop();
        var a = new HeldService<string, string>();
        var b = new HeldService<string, string>();
        using var serverA = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), a);
        using var serverB = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), b);
        using var client = new ServiceClient<string, string>(loop, [serverA.LocalEndPoint, serverB.LocalEndPoint], new LineClientCodec(),
            new ClientOptions { ConnectionsPerHost = 1, MaxOutstandingPerConnection = 16 });
        Drive.Until(loop, () => client.Hosts.All(h => h.State == HostState.Up));

        var first = Enumerable.Range(0, 4).Select(i => client.InvokeAsync($"r{i}").AsTask()).ToList();
        Drive.Until(loop, () => a.Waiting + b.Waiting == 4);
        Assert.Equal(2, a.Waiting);
        Assert.Equal(2, b.Waiting);

        a.Answer(r => r);
        a.Answer(r => r);
        Drive.Until(loop, () => client.Hosts[0].Outstanding == 0);

        // A has nothing outstanding, B has two: the next two both go to A.
        var next = Enumerable.Range(0, 2).Select(i => client.InvokeAsync($"n{i}").AsTask()).ToList();
        Drive.Until(loop, () => a.Waiting == 2);
        Assert.Equal(4, a.Calls);
        Assert.Equal(2, b.Calls);

        while (a.Waiting > 0)
        {
            a.Answer(r => r);
        }

        while (b.Waiting > 0)
        {
            b.Answer(r => r);
        }

        Drive.Until(loop, () => first.Concat(next).All(t => t.IsCompleted));
        Assert.Equal(["n0", "n1", "r0", "r1", "r2", "r3"], first.Concat(next).Select(t => t.Result).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_failed_host_is_taken_out_and_reconnected_in_the_background()
    {
        using var loop = new ServiceLoop();
        var serverA = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), Echo.Service);
        IPEndPoint addressA = serverA.LocalEndPoint;
        using var serverB = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), Echo.Service);
        using var client = new ServiceClient<string, string>(loop, [addressA, serverB.LocalEndPoint], new LineClientCodec(),
            new ClientOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20), MaxReconnectDelay = TimeSpan.FromMilliseconds(50) });
        Service<string, string> service = new RetryFilter<string, string>(new RetryBudget()).AndThen(client);
        Drive.Until(loop, () => client.Hosts.All(h => h.State == HostState.Up));

        Task<string> inFlight = service.InvokeAsync("before").AsTask();
        serverA.Dispose(); // host A goes away, perhaps with the request on it
        Drive.Until(loop, () => client.Hosts[0].State == HostState.Down);

        var during = Enumerable.Range(0, 10).Select(i => service.InvokeAsync($"d{i}").AsTask()).ToList();
        Drive.Until(loop, () => inFlight.IsCompleted && during.All(t => t.IsCompleted));
        Assert.Equal("before", inFlight.Result);      // retried on B if it was on A
        Assert.All(during, t => Assert.StartsWith("d", t.Result));
        Assert.True(client.Hosts[0].Failures >= 1);
        Assert.NotEqual(HostState.Up, client.Hosts[0].State);

        // The host comes back on the same address: the background reconnection finds it.
        using var revived = new ServiceServer<string, string>(loop, addressA, new LineServerCodec(), Echo.Service);
        Drive.Until(loop, () => client.Hosts[0].State == HostState.Up);
        Assert.Equal("again", Drive.Result(loop, client.InvokeAsync("again")));
    }

    [Fact]
    public void Requests_queue_up_to_the_bound_while_every_connection_is_busy_then_are_rejected()
    {
        using var loop = new ServiceLoop();
        var held = new HeldService<string, string>();
        using var server = new ServiceServer<string, string>(loop, AnyLoopback, new LineServerCodec(), held);
        using var client = new ServiceClient<string, string>(loop, [server.LocalEndPoint], new LineClientCodec(),
            new ClientOptions { ConnectionsPerHost = 1, MaxOutstandingPerConnection = 1, MaxQueued = 2 });
        Drive.Until(loop, () => client.Hosts[0].State == HostState.Up);

        var accepted = Enumerable.Range(0, 3).Select(i => client.InvokeAsync($"q{i}").AsTask()).ToList();
        Task<string> rejected = client.InvokeAsync("too many").AsTask();

        Assert.True(rejected.IsFaulted);
        Assert.IsType<RejectedException>(rejected.Exception!.InnerException);
        Assert.Equal(2, client.Queued);

        for (int i = 0; i < 3; i++)
        {
            Drive.Until(loop, () => held.Waiting == 1);
            held.Answer(r => r);
        }

        Drive.Until(loop, () => accepted.All(t => t.IsCompleted));
        Assert.Equal(["q0", "q1", "q2"], accepted.Select(t => t.Result));
    }

    [Fact]
    public void With_every_host_down_requests_fail_at_once()
    {
        using var loop = new ServiceLoop();
        IPEndPoint nobody;
        using (var probe = Polling.Net.TcpListener.Bind(AnyLoopback))
        {
            nobody = probe.LocalEndPoint; // bound, then closed: connecting is refused
        }

        using var client = new ServiceClient<string, string>(loop, [nobody], new LineClientCodec());
        Drive.Until(loop, () => client.Hosts[0].State == HostState.Down);

        Task<string> answer = client.InvokeAsync("x").AsTask();
        Assert.True(answer.IsFaulted);
        Assert.IsType<RejectedException>(answer.Exception!.InnerException);
    }

    [Fact]
    public void A_client_may_be_called_from_any_thread_and_answers_on_the_loop_thread()
    {
        using var loop = new LoopThread();
        var server = loop.Own(new ServiceServer<string, string>(loop.Loop, AnyLoopback, new LineServerCodec(), Echo.Service));
        var client = loop.Own(new ServiceClient<string, string>(loop.Loop, [server.LocalEndPoint], new LineClientCodec()));
        loop.Start();

        var answers = Enumerable.Range(0, 50).AsParallel().Select(i => client.InvokeAsync($"t{i}").AsTask()).ToArray();
        Assert.True(Task.WaitAll(answers, TimeSpan.FromSeconds(10)));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"t{i}").Order(), answers.Select(t => t.Result).Order());
    }
}
