using Xunit;
using Xunit.Abstractions;

namespace Chat.Tests;

public class ProgramTests(ITestOutputHelper output)
{
    [Fact]
    public void The_program_binds_loopback_prints_its_address_serves_and_exits_0_on_SIGTERM()
    {
        using var demo = new DemoProcess("Chat.dll", "0");
        Assert.Equal(System.Net.IPAddress.Loopback, demo.EndPoint.Address);
        using (var alice = new LineClient(demo.EndPoint))
        using (var bob = new LineClient(demo.EndPoint))
        {
            alice.Send("NICK alice");
            Assert.Equal("WELCOME alice", alice.ReadLine());
            bob.Send("NICK bob");
            Assert.Equal("WELCOME bob", bob.ReadLine());
            alice.Send("MSG hi");
            Assert.Equal("alice: hi", bob.ReadLine());
        }

        Assert.Equal(0, demo.Terminate());
    }

    /// <summary>
    /// 200 clients at a limit of 128 descriptors (the idle program holds about 65): the server welcomes some and
    /// sheds the rest, welcomes a new client once some leave, and on SIGTERM answers the command every held client
    /// has in flight, closes in order (no reset) and exits 0. Without descriptors kept free for the runtime's
    /// signal thread it aborted ("Out of memory.", exit 134).
    /// </summary>
    [Fact]
    public void Sigterm_at_the_descriptor_limit_exits_0_after_answering_the_held_clients() => RunTheDrill(beforeTheLoopRuns: false);

    /// <summary>
    /// The drill's worst case, which a loaded machine produced by chance ("held 0 of 200"): all 200 clients are in
    /// the backlog when the loop runs, so it accepts up to its cap before it parses the first NICK, with only its
    /// headroom free. The codec's first line loaded System.Linq then; the load failed ("Could not load file or
    /// assembly") and ended the process, every client reset. ChatCodec.Warmup loads it before the program listens.
    /// </summary>
    [Fact]
    public void Clients_that_all_connect_before_the_loop_runs_are_served_up_to_the_descriptor_limit() => RunTheDrill(beforeTheLoopRuns: true);

    private void RunTheDrill(bool beforeTheLoopRuns)
    {
        using var demo = new DemoProcess(descriptorLimit: 128, "Chat.dll", "0");
        var rest = new byte[4096];
        (int held, string printed) = DescriptorLimitDrill.Run(demo, 200, new DescriptorLimitDrill.Client<LineClient>(
            Connect: i =>
            {
                var client = new LineClient(demo.EndPoint);
                client.Send(i < 0 ? "NICK fresh" : $"NICK u{i}");
                return client;
            },
            ReadFirst: (client, i) => Assert.Equal(i < 0 ? "WELCOME fresh" : $"WELCOME u{i}", client.ReadLine()),
            SendLast: client => client.Send("STATS"),
            ReadLastThenEnd: client =>
            {
                client.ReadUntil(line => line.StartsWith("STATS ", StringComparison.Ordinal)); // after any "left" notices
                while (client.Socket.Receive(rest) > 0)
                {
                    // more notices, then the end of stream
                }
            }),
            beforeTheLoopRuns);
        output.WriteLine($"held {held}: {printed}");
    }
}
