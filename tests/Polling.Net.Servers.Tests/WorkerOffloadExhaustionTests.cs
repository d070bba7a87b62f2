using Polling.TestSupport;
using System.Text;
using Xunit.Abstractions;
using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>
/// Issue 9 item 4: the WorkerOffload program in a child process under <c>prlimit --nofile=96:96</c> meets 300
/// clients. Those beyond its cap are shed, the server lives, jobs still run on thread-pool workers at the limit
/// without aborting the process, it serves again once the clients leave, and SIGTERM (delivered on a new runtime
/// thread, through its SignalSource) exits 0.
/// </summary>
public class WorkerOffloadExhaustionTests(ITestOutputHelper output)
{
    private const int Limit = 96;
    private const int Clients = 300;

    [Fact]
    public void At_the_limit_it_sheds_runs_jobs_serves_again_and_exits_zero_on_sigterm()
    {
        using var server = EchoProcess.Start(typeof(WorkerOffload.WorkerOffloadServer).Assembly.Location, Limit);
        var clients = new List<Socket>();
        try
        {
            int idleSockets = server.OpenSockets();
            List<Socket> held = Fill(server, clients);
            output.WriteLine($"held {held.Count} of {Clients}, {server.OpenDescriptors()} descriptors open at limit {Limit}");
            Assert.True(held.Count > 0 && held.Count < Clients, $"held {held.Count} of {Clients}: the limit was not reached, or nobody was served");

            // Jobs on thread-pool workers while every slot is taken: each held client gets its result.
            held.ForEach(c => c.Send("work 50\n"u8));
            foreach (Socket client in held)
            {
                Assert.Equal("done 50\n", Receive(client, "done 50\n".Length));
            }

            // Everybody leaves; once the server has let go of the sockets, a new client is served.
            clients.ForEach(c => c.Dispose());
            clients.Clear();
            Eventually(() => server.OpenSockets() <= idleSockets, "the server releases the sockets of the clients that left");
            using (Socket fresh = Connect(server))
            {
                fresh.Send("echo again\n"u8);
                Assert.Equal("again\n", Receive(fresh, "again\n".Length));
            }

            // Full again, a job in flight on every held client, then SIGTERM: exit 0, the job's result or an orderly close.
            held = Fill(server, clients);
            Assert.True(held.Count > 0, "held nobody the second time");
            held.ForEach(c => c.Send("work 20\n"u8));
            (int exit, string printed) = server.Terminate();
            Assert.True(exit == 0, $"exit code {exit}: {printed}");
            foreach (Socket client in held)
            {
                string rest = ReceiveUntilClosed(client);
                Assert.True(rest is "" or "done 20\n", $"after SIGTERM a held client got '{rest}'");
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Connects <see cref="Clients"/> clients with one echo each; returns those answered (the others are shed).</summary>
    private static List<Socket> Fill(EchoProcess server, List<Socket> clients)
    {
        for (int i = 0; i < Clients; i++)
        {
            Socket client = Connect(server);
            clients.Add(client);
            client.Send(Encoding.ASCII.GetBytes($"echo c{i}\n"));
        }

        var held = new List<Socket>();
        for (int i = 0; i < Clients; i++)
        {
            string reply = Receive(clients[i], $"c{i}\n".Length);
            if (reply == $"c{i}\n")
            {
                held.Add(clients[i]);
            }
            else
            {
                Assert.Equal("", reply); // shed: closed before any byte
            }
        }

        return held;
    }

    private static Socket Connect(EchoProcess server) => BlockingClient.Connect(server.EndPoint);

    private static string Receive(Socket socket, int length) => Encoding.ASCII.GetString(BlockingClient.ReceiveOrClosed(socket, length));

    private static string ReceiveUntilClosed(Socket socket) => Encoding.ASCII.GetString(BlockingClient.ReceiveUntilClosed(socket));
}
