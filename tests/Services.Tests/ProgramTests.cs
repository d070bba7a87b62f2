using Xunit;
using Xunit.Abstractions;

namespace Services.Tests;

public class ProgramTests(ITestOutputHelper output)
{
    [Fact]
    public void The_program_binds_loopback_prints_its_address_serves_and_exits_0_on_SIGTERM()
    {
        using var demo = new DemoProcess("Services.dll", "0");
        Assert.Equal(System.Net.IPAddress.Loopback, demo.EndPoint.Address);
        using (var client = new RawHttp(demo.EndPoint))
        {
            client.Send(RawHttp.Get("/ping") + RawHttp.Get("/timeline/carol", "demo"));
            Assert.Equal("PONG", client.Read().Body);
            Assert.StartsWith("""{"user":"carol","posts":["carol""", client.Read().Body);
        }

        Assert.Equal(0, demo.Terminate());
    }

    /// <summary>
    /// 200 clients at a limit of 128 descriptors (the idle program holds about 90): the front serves some and sheds
    /// the rest, still reaches its backends, serves a new client once some leave, and on SIGTERM answers the request
    /// every held client has in flight, closes in order (no reset) and exits 0. Before the front kept descriptors free
    /// (for the runtime's signal thread and the backend pools) /timeline answered 500 at the limit.
    /// </summary>
    [Fact]
    public void Sigterm_at_the_descriptor_limit_exits_0_after_answering_the_held_clients() => RunTheDrill(beforeTheLoopRuns: false);

    /// <summary>
    /// The same drill with every client already in the backlog before the program's loop runs (it is stopped while
    /// they connect): the front accepts up to its cap before it parses a single request, so whatever parsing or
    /// answering loads for the first time must already be loaded (Chat died exactly there).
    /// </summary>
    [Fact]
    public void Clients_that_all_connect_before_the_loop_runs_are_served_up_to_the_descriptor_limit() => RunTheDrill(beforeTheLoopRuns: true);

    private void RunTheDrill(bool beforeTheLoopRuns)
    {
        using var demo = new DemoProcess(descriptorLimit: 128, "Services.dll", "0");
        (int held, string printed) = DescriptorLimitDrill.Run(demo, 200, new DescriptorLimitDrill.Client<RawHttp>(
            Connect: _ =>
            {
                var client = new RawHttp(demo.EndPoint);
                client.Send(RawHttp.Get("/ping"));
                return client;
            },
            ReadFirst: (client, _) => Assert.Equal("PONG", client.Read().Body),
            SendLast: client => client.Send(RawHttp.Get("/ping")),
            ReadLastThenEnd: client =>
            {
                Assert.Equal("PONG", client.Read().Body);
                Assert.True(client.ReadsEndOfStream(), "then an orderly close");
            },
            AtTheLimit: client =>
            {
                client.Send(RawHttp.Get("/timeline/carol", ServicesDemo.ServicesApp.DemoToken)); // both backends, through the pools
                (int status, _, string body) = client.Read();
                Assert.True(status == 200, $"timeline at the limit: {status} {body}");
            }),
            beforeTheLoopRuns);
        output.WriteLine($"held {held}: {printed}");
    }
}
