using System.Net;
using System.Text;
using System.Text.Json;
using Polling.Services;
using Polling.Services.Http;
using Polling.Services.Lines;

namespace ServicesDemo;

/// <summary>
/// The whole demo wired together: an HTTP front on one <see cref="ServiceLoop"/> (the caller's thread), and the
/// user and post backends as line-protocol servers on a second loop (its own thread), reached from the front
/// through <see cref="ServiceClient{TRequest,TResponse}"/>s — the same <see cref="Service{TRequest,TResponse}"/>
/// type as the backend objects, which the tests call directly.
/// </summary>
/// <remarks>
/// The front's stack: statistics → router; <c>/timeline/</c> → bearer authentication → 1 s timeout (on the front
/// loop's timer wheel) → timeline, which calls both backends through retry filters (with a shared budget).
/// </remarks>
public sealed class ServicesApp : IDisposable
{
    /// <summary>The token <c>Authorization: Bearer demo</c> carries.</summary>
    public const string DemoToken = "demo";

    /// <summary>
    /// Descriptors the front keeps free below the process's limit (its connection cap sheds the clients beyond):
    /// the runtime's signal-handling thread, and both ends of every backend connection the two client pools may
    /// still open (<see cref="ClientOptions.ConnectionsPerHost"/> each), since the backends run in this process.
    /// </summary>
    public static int FrontDescriptorHeadroom { get; } = Polling.Net.AcceptLoopOptions.SignalHeadroom + (2 * 2 * new ClientOptions().ConnectionsPerHost);

    private readonly ServiceLoop _front = new();
    private readonly ServiceLoop _back = new();
    private readonly Thread _backThread;
    private readonly ServiceServer<string, string> _userServer;
    private readonly ServiceServer<string, string> _postServer;
    private readonly ServiceClient<string, string> _userClient;
    private readonly ServiceClient<string, string> _postClient;
    private readonly ServiceServer<HttpRequest, HttpResponse> _http;
    private readonly ServiceStats _httpStats = new("http");
    private readonly ServiceStats _timelineStats = new("timeline");
    private readonly ServiceStats _userStats = new("user-client");
    private readonly ServiceStats _postStats = new("post-client");
    private readonly RetryFilter<string, string> _userRetry;
    private readonly RetryFilter<string, string> _postRetry;
    private readonly TimeoutFilter<AuthenticatedRequest, HttpResponse> _timeout;

    /// <summary>Binds the front on 127.0.0.1:<paramref name="port"/> and the backends on free loopback ports, and starts the backend loop.</summary>
    /// <param name="port">The HTTP port (0 picks a free one).</param>
    /// <param name="timeout">The timeline's timeout; default 1 s.</param>
    public ServicesApp(int port, TimeSpan? timeout = null)
    {
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        _userServer = new ServiceServer<string, string>(_back, loopback, new LineServerCodec(), new UserService());
        _postServer = new ServiceServer<string, string>(_back, loopback, new LineServerCodec(), new PostService(_back));
        _backThread = new Thread(() => _back.Run()) { Name = "backends", IsBackground = true };
        _backThread.Start();

        _userClient = new ServiceClient<string, string>(_front, [_userServer.LocalEndPoint], new LineClientCodec());
        _postClient = new ServiceClient<string, string>(_front, [_postServer.LocalEndPoint], new LineClientCodec());
        var budget = new RetryBudget();
        _userRetry = new RetryFilter<string, string>(budget, maxRetries: 2);
        _postRetry = new RetryFilter<string, string>(budget, maxRetries: 2);
        Service<string, string> users = new StatsFilter<string, string>(_userStats).AndThen(_userRetry).AndThen(_userClient);
        Service<string, string> posts = new StatsFilter<string, string>(_postStats).AndThen(_postRetry).AndThen(_postClient);

        _timeout = new TimeoutFilter<AuthenticatedRequest, HttpResponse>(timeout ?? TimeSpan.FromSeconds(1), _front);
        Service<HttpRequest, HttpResponse> timeline =
            new StatsFilter<HttpRequest, HttpResponse>(_timelineStats, r => r.Status >= 500)
                .AndThen(new BearerAuthenticationFilter(new Dictionary<string, string> { [DemoToken] = "demo-user" }))
                .AndThen(_timeout)
                .AndThen(new TimelineService(users, posts));
        Service<HttpRequest, HttpResponse> app =
            new StatsFilter<HttpRequest, HttpResponse>(_httpStats, r => r.Status >= 500).AndThen(new Router(timeline, DescribeStats));
        _http = new ServiceServer<HttpRequest, HttpResponse>(_front, new IPEndPoint(IPAddress.Loopback, port), new HttpServerCodec(), app,
            new ServerOptions { DescriptorHeadroom = FrontDescriptorHeadroom });
    }

    /// <summary>Where the HTTP front listens.</summary>
    public IPEndPoint LocalEndPoint => _http.LocalEndPoint;

    /// <summary>The front loop (run it with <see cref="Run"/>).</summary>
    public ServiceLoop FrontLoop => _front;

    /// <summary>The front server, for its counters.</summary>
    public ServiceServer<HttpRequest, HttpResponse> Http => _http;

    /// <summary>Serves on the calling thread until <see cref="Stop"/>.</summary>
    public void Run() => _front.Run();

    /// <summary>Makes <see cref="Run"/> return. Any thread.</summary>
    public void Stop() => _front.Stop();

    /// <summary>After <see cref="Run"/>, on its thread: the front answers what its clients sent and closes in order (<see cref="ServiceServer{TRequest,TResponse}.Shutdown"/>); the backends serve it meanwhile.</summary>
    /// <param name="grace">How long the front's connections get.</param>
    /// <returns><see langword="true"/> if all finished in time.</returns>
    public bool Shutdown(TimeSpan grace) => _http.Shutdown(grace);

    /// <summary>The statistics as JSON (what <c>GET /stats</c> answers).</summary>
    public string DescribeStats()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (ServiceStats stats in new[] { _httpStats, _timelineStats, _userStats, _postStats })
            {
                json.WriteStartObject(stats.Name);
                json.WriteNumber("requests", stats.Requests);
                json.WriteNumber("failures", stats.Failures);
                json.WriteNumber("pending", stats.Pending);
                json.WriteNumber("p50_us", stats.Latency.Percentile(0.5).TotalMicroseconds);
                json.WriteNumber("p99_us", stats.Latency.Percentile(0.99).TotalMicroseconds);
                json.WriteEndObject();
            }

            json.WriteNumber("timeouts", _timeout.TimedOut);
            json.WriteNumber("retries", _userRetry.Retries + _postRetry.Retries);
            json.WriteNumber("answered_at_once", _http.AnsweredAtOnce);
            json.WriteNumber("answered_later", _http.AnsweredLater);
            json.WriteStartArray("backends");
            foreach (HostStatus host in _userClient.Hosts.Concat(_postClient.Hosts))
            {
                json.WriteStartObject();
                json.WriteString("host", host.EndPoint.ToString());
                json.WriteString("state", host.State.ToString());
                json.WriteNumber("outstanding", host.Outstanding);
                json.WriteNumber("connections", host.Connections);
                json.WriteNumber("requests", host.Requests);
                json.WriteNumber("failures", host.Failures);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>Stops the backend loop and closes everything. Call on the front loop's thread after <see cref="Run"/> returned.</summary>
    public void Dispose()
    {
        _http.Dispose();
        _userClient.Dispose();
        _postClient.Dispose();
        _back.Stop();
        _backThread.Join();
        _userServer.Dispose();
        _postServer.Dispose();
        _back.Dispose();
        _front.Dispose();
    }
}
