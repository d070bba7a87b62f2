using Xunit;

namespace Services.Tests;

public class ProgramTests
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
}
