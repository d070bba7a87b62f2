using System.Diagnostics;
using System.Text.Json;
using ServicesDemo;
using Xunit;
using Xunit.Abstractions;

namespace Services.Tests;

/// <summary>The demo end to end, over real TCP: the front on its loop thread, the backends on theirs.</summary>
public sealed class ServicesAppTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly RunningApp _running = new();

    public ServicesAppTests(ITestOutputHelper output) => _output = output;

    private ServicesApp App => _running.App;

    [Fact]
    public void Ping_answers_PONG()
    {
        using var client = new RawHttp(App.LocalEndPoint);
        client.Send(RawHttp.Get("/ping"));
        (int status, _, string body) = client.Read();
        Assert.Equal((200, "PONG"), (status, body));
    }

    [Fact]
    public void Timeline_without_the_bearer_token_is_401()
    {
        using var client = new RawHttp(App.LocalEndPoint);
        client.Send(RawHttp.Get("/timeline/alice") + RawHttp.Get("/timeline/alice", "wrong"));
        Assert.Equal(401, client.Read().Status);
        Assert.Equal(401, client.Read().Status);
    }

    [Fact]
    public void Timeline_with_the_token_composes_both_backends_into_json()
    {
        using var client = new RawHttp(App.LocalEndPoint);
        client.Send(RawHttp.Get("/timeline/alice", ServicesApp.DemoToken) + RawHttp.Get("/timeline/Bob", ServicesApp.DemoToken));
        foreach (string user in new[] { "alice", "bob" })
        {
            (int status, string headers, string body) = client.Read();
            Assert.Equal(200, status);
            Assert.Contains("Content-Type: application/json", headers);
            using JsonDocument json = JsonDocument.Parse(body);
            Assert.Equal(user, json.RootElement.GetProperty("user").GetString());
            Assert.True(json.RootElement.GetProperty("posts").GetArrayLength() > 0);
        }
    }

    [Fact]
    public void A_slow_post_backend_is_cut_off_by_the_timeout_filter_with_504()
    {
        using var client = new RawHttp(App.LocalEndPoint);
        var clock = Stopwatch.StartNew();
        client.Send(RawHttp.Get("/timeline/alice?delay=5000", ServicesApp.DemoToken));
        Assert.Equal(504, client.Read().Status);
        TimeSpan took = clock.Elapsed;
        _output.WriteLine($"504 after {took.TotalMilliseconds:0} ms");
        Assert.InRange(took, TimeSpan.FromMilliseconds(999), TimeSpan.FromMilliseconds(4999)); // never early; before the backend answered

        // The connection and the front are fine afterwards, and a short delay is answered.
        client.Send(RawHttp.Get("/timeline/alice?delay=20", ServicesApp.DemoToken));
        Assert.Equal(200, client.Read().Status);
    }

    [Fact]
    public void Unknown_paths_are_404_and_stats_report_the_services()
    {
        using var client = new RawHttp(App.LocalEndPoint);
        client.Send(RawHttp.Get("/nope") + RawHttp.Get("/timeline/alice", ServicesApp.DemoToken) + RawHttp.Get("/stats"));
        Assert.Equal(404, client.Read().Status);
        Assert.Equal(200, client.Read().Status);
        using JsonDocument stats = JsonDocument.Parse(client.Read().Body);
        Assert.Equal(1, stats.RootElement.GetProperty("timeline").GetProperty("requests").GetInt64());
        Assert.Equal(1, stats.RootElement.GetProperty("post-client").GetProperty("requests").GetInt64());
    }

    public void Dispose() => _running.Dispose();
}
