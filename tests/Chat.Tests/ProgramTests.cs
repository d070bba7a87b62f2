using System.Diagnostics;
using System.Net.Sockets;
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
    public void Sigterm_at_the_descriptor_limit_exits_0_after_answering_the_held_clients()
    {
        using var demo = new DemoProcess(descriptorLimit: 128, "Chat.dll", "0");
        var clients = new List<LineClient>();
        var held = new List<LineClient>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var client = new LineClient(demo.EndPoint);
                clients.Add(client);
                client.Send($"NICK u{i}");
            }

            for (int i = 0; i < clients.Count; i++)
            {
                if (ReadLineOrShed(clients[i]) is { } line)
                {
                    Assert.Equal($"WELCOME u{i}", line);
                    held.Add(clients[i]);
                }
            }

            Assert.True(held.Count > 2 && held.Count < clients.Count, $"held {held.Count} of {clients.Count}: the limit was not reached, or too few were served");

            // Half the held clients leave: a new client is welcomed (the server sees them go one by one, hence the retries).
            foreach (LineClient client in clients.Except(held.Skip(held.Count / 2)))
            {
                client.Dispose();
            }

            held = held.Skip(held.Count / 2).ToList();
            bool welcomed = false;
            for (var clock = Stopwatch.StartNew(); !welcomed && clock.Elapsed < TimeSpan.FromSeconds(10);)
            {
                using var fresh = new LineClient(demo.EndPoint);
                fresh.Send("NICK fresh");
                welcomed = ReadLineOrShed(fresh) == "WELCOME fresh";
            }

            Assert.True(welcomed, "a new client is welcomed once descriptors are free");

            // Every held client has a command in flight when SIGTERM comes: it gets its answer (after any "left"
            // notices of the others), then an orderly end of stream (a reset throws), and closes as a client does.
            held.ForEach(c => c.Send("STATS"));
            var terminating = Stopwatch.StartNew();
            demo.SendTerminate();
            var rest = new byte[4096];
            foreach (LineClient client in held)
            {
                client.ReadUntil(line => line.StartsWith("STATS ", StringComparison.Ordinal));
                while (client.Socket.Receive(rest) > 0)
                {
                    // more notices
                }

                client.Dispose();
            }

            int exit = demo.WaitForExit();
            string printed = demo.Output;
            output.WriteLine($"held {held.Count}; exit {exit} {terminating.Elapsed.TotalMilliseconds:F0} ms after SIGTERM: {printed}");
            Assert.True(exit == 0, $"exit code {exit}: {printed}");
            Assert.DoesNotContain("closed the sessions left", printed); // every session finished within the grace
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>The first line, or null if the server shed the client (closed or reset it before any byte).</summary>
    private static string? ReadLineOrShed(LineClient client)
    {
        try
        {
            return client.ReadLine();
        }
        catch (Exception e) when (e is IOException || (e is SocketException s && s.SocketErrorCode == SocketError.ConnectionReset))
        {
            return null;
        }
    }
}
