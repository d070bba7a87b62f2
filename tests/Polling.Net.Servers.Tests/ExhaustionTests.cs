using Xunit.Abstractions;
using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>
/// Issue 9 item 3, end to end: the TcpEcho sample under <c>prlimit --nofile=64:64</c> (about 55 of them taken by
/// the runtime) meets 300 clients at once. It must not die, must not spin while exhausted (under 5 % of a core),
/// must shed or later serve the backlog, and must serve a new client within a second once descriptors are free —
/// on epoll and poll(2), with edge and level triggering, with both remedies.
/// </summary>
public class ExhaustionTests(ITestOutputHelper output)
{
    private const int Limit = 64;
    private const int Clients = 300;

    /// <summary>For the SIGTERM test: room for some 30 clients above the runtime's own descriptors and the headroom.</summary>
    private const int SigtermLimit = 96;

    public static TheoryData<string, string, string> Configurations()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string backend in new[] { "epoll", "poll" })
        {
            foreach (string trigger in new[] { "edge", "level" })
            {
                foreach (string remedy in new[] { "shed", "pause" })
                {
                    data.Add(backend, trigger, remedy);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Tcp_echo_survives_running_out_of_descriptors(string backend, string trigger, string remedy)
    {
        using var server = EchoProcess.Start(Limit, "--backend", backend, "--trigger", trigger, "--remedy", remedy, "--descriptor-headroom", "0"); // the remedies at the limit itself
        var clients = new List<Client>();
        int idleSockets = server.OpenSockets();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(new Client(server.EndPoint, i)); // the kernel completes the handshake (backlog 4096)
            }

            // Some clients are served, the rest meet the exhausted server: shed (closed at once) or kept waiting.
            Eventually(() => Poll(clients) && clients.Count(c => c.State == ClientState.Echoed) >= 1
                && (remedy == "pause" ? server.OpenDescriptors() >= Limit - 1 : clients.All(c => c.State != ClientState.Waiting)),
                "the server is exhausted: some clients echoed, the rest shed (or waiting, when pausing)");
            int served = clients.Count(c => c.State == ClientState.Echoed);
            int shed = clients.Count(c => c.State == ClientState.Closed);
            Assert.True(served < Clients, "the limit really was reached");

            // Exhausted: no busy loop.
            TimeSpan cpuBefore = server.CpuTime();
            var window = System.Diagnostics.Stopwatch.StartNew();
            Thread.Sleep(1500); // measuring CPU over a window, not waiting for an event
            double share = (server.CpuTime() - cpuBefore) / window.Elapsed;
            output.WriteLine($"{backend}/{trigger}/{remedy}: served {served}, shed {shed}, waiting {Clients - served - shed}, CPU while exhausted {share:P1} of a core");
            Assert.True(share < 0.05, $"the exhausted server used {share:P1} of a core (must be < 5 %)");

            // Descriptors free up: the served clients leave. A waiting backlog is served now.
            foreach (Client client in clients.Where(c => c.State == ClientState.Echoed))
            {
                client.Dispose();
            }

            if (remedy == "pause")
            {
                // Each client leaves once it has its echo, so the server can take the next ones from its backlog.
                Eventually(() =>
                {
                    Poll(clients);
                    foreach (Client client in clients.Where(c => c.State == ClientState.Echoed))
                    {
                        client.Dispose();
                    }

                    return clients.All(c => c.State != ClientState.Waiting);
                }, "the whole backlog is served as descriptors free up");
                Assert.Equal(0, clients.Count(c => c.State == ClientState.Closed)); // pausing sheds nobody
            }

            foreach (Client client in clients)
            {
                client.Dispose();
            }

            // Descriptors are free once the server has seen every client leave; from then on a new client is served
            // within a second. (Before that it may still be shed: the server is still at its limit.)
            Eventually(() => server.OpenSockets() <= idleSockets, "the server releases the sockets of the clients that left");
            var latency = System.Diagnostics.Stopwatch.StartNew();
            using (var fresh = new Client(server.EndPoint, 1_000_000))
            {
                Eventually(() => Poll([fresh]) && fresh.State != ClientState.Waiting, "the new client is answered");
                Assert.Equal(ClientState.Echoed, fresh.State);
            }

            output.WriteLine($"new client echoed after {latency.Elapsed.TotalMilliseconds:F1} ms");
            Assert.True(latency.Elapsed < TimeSpan.FromSeconds(1), $"a new client waited {latency.Elapsed.TotalMilliseconds:F0} ms");
        }
        finally
        {
            foreach (Client client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// SIGTERM while every client slot is taken (300 clients at a limit of 96; the held ones with a line in flight):
    /// TcpEcho must exit 0 within the deadline and give each held client its echo or an orderly close. Without the
    /// descriptor headroom (<c>--descriptor-headroom 0</c>) it aborted ("Out of memory.", exit 134): .NET starts a new
    /// thread to deliver SIGTERM, and that thread could not open the files it reads at start.
    /// </summary>
    [Theory]
    [InlineData("epoll")]
    [InlineData("poll")]
    public void Tcp_echo_exits_zero_on_sigterm_while_every_client_slot_is_taken(string backend)
    {
        using var server = EchoProcess.Start(SigtermLimit, "--backend", backend); // the program's default headroom: 4
        var clients = new List<Client>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                clients.Add(new Client(server.EndPoint, i));
            }

            Eventually(() => Poll(clients) && clients.All(c => c.State != ClientState.Waiting), "every client echoed or shed");
            var held = clients.Where(c => c.State == ClientState.Echoed).ToList();
            output.WriteLine($"{backend}: held {held.Count} of {Clients}, {server.OpenDescriptors()} descriptors open at limit {SigtermLimit}");
            Assert.True(held.Count > 0 && held.Count < Clients, $"held {held.Count} of {Clients}: the limit was not reached, or nobody was served");

            foreach (Client client in clients.Except(held))
            {
                client.Dispose();
            }

            held.ForEach(c => c.Send("bye\n")); // in flight when the signal comes
            (int exit, string printed) = server.Terminate();
            Assert.True(exit == 0, $"exit code {exit}: {printed}");

            // The echo, if the server read the line before it stopped, then an orderly close (no reset).
            foreach (Client client in held)
            {
                string rest = client.ReceiveUntilClosed();
                Assert.True(rest is "" or "bye\n", $"after SIGTERM a held client got '{rest}'");
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static bool Poll(IEnumerable<Client> clients)
    {
        foreach (Client client in clients)
        {
            client.Poll();
        }

        return true;
    }

    private enum ClientState
    {
        Waiting,
        Echoed,
        Closed,
    }

    /// <summary>One blocking-connected, then non-blocking client that sent one line and waits for its echo.</summary>
    private sealed class Client : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly byte[] _expected;
        private readonly byte[] _received;
        private int _got;

        public Client(IPEndPoint server, int id)
        {
            _expected = System.Text.Encoding.ASCII.GetBytes($"hello {id}\n");
            _received = new byte[_expected.Length];
            _socket.Connect(server);
            _socket.Send(_expected);
            _socket.Blocking = false;
        }

        public ClientState State { get; private set; }

        public bool Disposed { get; private set; }

        public void Poll()
        {
            if (State != ClientState.Waiting || Disposed)
            {
                return;
            }

            try
            {
                int n = _socket.Receive(_received.AsSpan(_got), SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }

                if (error != SocketError.Success || n == 0)
                {
                    if (Disposed)
                    {
                        return;
                    }

                    Assert.Equal(0, _got); // closed mid-echo would be a bug: shed means before any byte
                    State = ClientState.Closed;
                    return;
                }

                _got += n;
                if (_got == _expected.Length)
                {
                    Assert.Equal(_expected, _received);
                    State = ClientState.Echoed;
                }
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Send(string line) => _socket.Send(System.Text.Encoding.ASCII.GetBytes(line));

        /// <summary>Everything up to the peer's orderly close; a reset or a 10 s silence throws.</summary>
        public string ReceiveUntilClosed()
        {
            _socket.Blocking = true;
            _socket.ReceiveTimeout = 10_000;
            var received = new List<byte>();
            var buffer = new byte[256];
            int n;
            while ((n = _socket.Receive(buffer)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n));
            }

            return System.Text.Encoding.ASCII.GetString(received.ToArray());
        }

        public void Dispose()
        {
            Disposed = true;
            _socket.Dispose();
        }
    }
}
