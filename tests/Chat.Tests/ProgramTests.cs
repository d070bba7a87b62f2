using Xunit;

namespace Chat.Tests;

public class ProgramTests
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
}
