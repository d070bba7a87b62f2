using System.Diagnostics;
using System.Net.Sockets;
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
    /// every held client has in flight, closes in order (no reset) and exits 0. Without descriptors kept free for the
    /// runtime's signal thread it aborted ("Out of memory.", exit 134).
    /// </summary>
    [Fact]
    public void Sigterm_at_the_descriptor_limit_exits_0_after_answering_the_held_clients()
    {
        using var demo = new DemoProcess(descriptorLimit: 128, "Services.dll", "0");
        var clients = new List<RawHttp>();
        var held = new List<RawHttp>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var client = new RawHttp(demo.EndPoint);
                clients.Add(client);
                client.Send(RawHttp.Get("/ping"));
            }

            foreach (RawHttp client in clients)
            {
                if (ReadOrShed(client) is { } body)
                {
                    Assert.Equal("PONG", body);
                    held.Add(client);
                }
            }

            Assert.True(held.Count > 2 && held.Count < clients.Count, $"held {held.Count} of {clients.Count}: the limit was not reached, or too few were served");

            // At the limit the front still reaches both backends through its client pools.
            held[0].Send(RawHttp.Get("/timeline/carol", ServicesDemo.ServicesApp.DemoToken));
            (int status, _, string timeline) = held[0].Read();
            Assert.True(status == 200, $"timeline at the limit: {status} {timeline}");

            // Half the held clients leave: a new client is served (the server sees them go one by one, hence the retries).
            foreach (RawHttp client in clients.Except(held.Skip(held.Count / 2)))
            {
                client.Dispose();
            }

            held = held.Skip(held.Count / 2).ToList();
            bool served = false;
            for (var clock = Stopwatch.StartNew(); !served && clock.Elapsed < TimeSpan.FromSeconds(10);)
            {
                using var fresh = new RawHttp(demo.EndPoint);
                fresh.Send(RawHttp.Get("/ping"));
                served = ReadOrShed(fresh) == "PONG";
            }

            Assert.True(served, "a new client is served once descriptors are free");

            // Every held client has a request in flight when SIGTERM comes: it gets its answer, then an orderly end of
            // stream (a reset throws), and closes as a client does.
            held.ForEach(c => c.Send(RawHttp.Get("/ping")));
            var terminating = Stopwatch.StartNew();
            demo.SendTerminate();
            foreach (RawHttp client in held)
            {
                Assert.Equal("PONG", client.Read().Body);
                Assert.True(client.ReadsEndOfStream(), "then an orderly close");
                client.Dispose();
            }

            int exit = demo.WaitForExit();
            string printed = demo.Output;
            output.WriteLine($"held {held.Count}; exit {exit} {terminating.Elapsed.TotalMilliseconds:F0} ms after SIGTERM: {printed}");
            Assert.True(exit == 0, $"exit code {exit}: {printed}");
            Assert.DoesNotContain("closed the connections left", printed); // every connection finished within the grace
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>The body of the answer, or null if the server shed the client (closed or reset it before any byte).</summary>
    private static string? ReadOrShed(RawHttp client)
    {
        try
        {
            return client.Read().Body;
        }
        catch (Exception e) when (e is IOException || (e is SocketException s && s.SocketErrorCode == SocketError.ConnectionReset))
        {
            return null;
        }
    }
}
