using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Polling.TestSupport;
using Xunit.Abstractions;

namespace MiniRedis.Tests;

/// <summary>
/// The MiniRedis program in a child process under <c>prlimit --nofile=64:64</c> (the runtime takes about 55 of
/// them) meets 100 clients at once: it must not die, must go on answering the clients it holds, must shed the rest
/// (accept and close, so none hangs in the backlog), and once the clients leave and their descriptors are free it
/// must serve new clients within a second.
/// </summary>
public sealed class ExhaustionTests(ITestOutputHelper output)
{
    private const int Limit = 64;
    private const int Clients = 100;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public void Out_of_descriptors_it_sheds_lives_on_and_serves_new_clients_once_descriptors_are_free()
    {
        using var server = ChildServer.Start(Limit);
        int idleSockets = server.OpenSockets();
        int idleDescriptors = server.OpenDescriptors();
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                Socket client = Connect(server.Port);
                clients.Add(client);
                client.Send(Resp.Command("PING"));
            }

            // Every client is either answered or shed (closed before any byte); none is left hanging.
            var served = new List<Socket>();
            int shed = 0;
            foreach (Socket client in clients)
            {
                string reply = ReceiveOrClosed(client, "+PONG\r\n".Length);
                if (reply == "+PONG\r\n")
                {
                    served.Add(client);
                }
                else
                {
                    Assert.Equal("", reply);   // shed means closed before any byte
                    shed++;
                }
            }

            output.WriteLine($"served {served.Count}, shed {shed}, the server holding {server.OpenSockets()} sockets at limit {Limit}");
            Assert.True(served.Count > 0 && shed > 0, $"served {served.Count}, shed {shed}: the limit was not reached, or nobody was served");
            Assert.False(server.HasExited, $"MiniRedis died: {server.Output()}");

            // Still exhausted: the clients it holds are served as before (a SET and a GET each).
            for (int i = 0; i < served.Count; i++)
            {
                string key = $"k{i}";
                Assert.Equal("+OK\r\n", served[i].Exchange(Resp.Command("SET", key, "v"), "+OK\r\n"));
                Assert.Equal("$1\r\nv\r\n", served[i].Exchange(Resp.Command("GET", key), "$1\r\nv\r\n"));
            }

            // A second wave while still exhausted: all shed, the server lives. (With tiered compilation on, this is where
            // it died: the shedding path got hot, the runtime had to start its tier-up thread again, and a new thread
            // opens a file. The child runs with the tiering delays at 0, so that happens at once.)
            var wave = new List<Socket>();
            try
            {
                for (int i = 0; i < 60; i++)
                {
                    Socket client = Connect(server.Port);
                    wave.Add(client);
                    client.Send(Resp.Command("PING"));
                }

                Assert.All(wave, c => Assert.Equal("", ReceiveOrClosed(c, "+PONG\r\n".Length)));
            }
            finally
            {
                wave.ForEach(c => c.Dispose());
            }

            Assert.False(server.HasExited, $"MiniRedis died in the second wave: {server.Output()}");
            Assert.Equal("+PONG\r\n", served[0].Exchange(Resp.Command("PING"), "+PONG\r\n"));

            // The clients leave. Once the server has seen them go (its sockets are back to the listener's), as many new
            // clients as it held before are served at once, and within a second.
            clients.ForEach(c => c.Dispose());
            Eventually(() => server.OpenSockets() <= idleSockets, () => $"the server still holds {server.OpenSockets()} sockets (idle: {idleSockets})");
            // As many descriptors are free as when it held the served clients, less any the runtime has opened since
            // (it opens pipes and files lazily; none were seen here, but that is the runtime's business).
            int room = served.Count - Math.Max(0, server.OpenDescriptors() - idleDescriptors);
            Assert.True(room > 0, $"the runtime took the free descriptors: {server.OpenDescriptors()} open, {idleDescriptors} at start");
            var clock = Stopwatch.StartNew();
            var fresh = new List<Socket>();
            try
            {
                for (int i = 0; i < room; i++)
                {
                    Socket client = Connect(server.Port);
                    fresh.Add(client);
                    client.Send(Resp.Command("INCR", "fresh"));
                }

                var replies = fresh.Select(c => ReceiveOrClosed(c, ":1\r\n".Length)).OrderBy(r => r, StringComparer.Ordinal).ToArray();
                Assert.Equal(Enumerable.Range(1, room).Select(n => $":{n}\r\n").OrderBy(r => r, StringComparer.Ordinal), replies);
            }
            finally
            {
                fresh.ForEach(c => c.Dispose());
            }

            output.WriteLine($"{room} new clients served {clock.Elapsed.TotalMilliseconds:F1} ms after the descriptors were free");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"new clients took {clock.Elapsed.TotalMilliseconds:F0} ms");

            (int exit, string printed) = server.Terminate();
            Assert.True(exit == 0, $"exit code {exit}: {printed}");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// SIGTERM while every client slot is taken (100 clients at a limit of 64, the held ones with a request waiting
    /// for its reply): the server must still shut down (exit 0) and answer the held clients before it closes them.
    /// Before maxclients it aborted ("Out of memory."): .NET starts a new thread for a SIGTERM handler, and the
    /// thread could not open the file it reads at start.
    /// </summary>
    [Fact]
    public void Sigterm_while_every_client_slot_is_taken_exits_zero_and_answers_the_held_clients()
    {
        using var server = ChildServer.Start(Limit);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                Socket client = Connect(server.Port);
                clients.Add(client);
                client.Send(Resp.Command("PING"));
            }

            var held = clients.Where(c => ReceiveOrClosed(c, "+PONG\r\n".Length) == "+PONG\r\n").ToList();
            Assert.True(held.Count > 0 && held.Count < Clients, $"held {held.Count} of {Clients}: the limit was not reached, or nobody was served");
            output.WriteLine($"held {held.Count}, {server.OpenDescriptors()} descriptors open at limit {Limit}");

            // Each held client has a request in flight when the signal comes; none of the shed ones is still open.
            foreach (Socket client in clients.Except(held))
            {
                client.Dispose();
            }

            held.ForEach(c => c.Send(Resp.Command("ECHO", "bye")));
            (int exit, string printed) = server.Terminate();
            Assert.True(exit == 0, $"exit code {exit}: {printed}");

            // The reply, if the server had read the request before it stopped, then an orderly close (no reset).
            foreach (Socket client in held)
            {
                string rest = ReceiveUntilClosed(client);
                Assert.True(rest is "" or "$3\r\nbye\r\n", $"after SIGTERM a held client got '{rest}'");
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static Socket Connect(int port) => BlockingClient.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));

    private static string ReceiveOrClosed(Socket socket, int length) => Resp.Text(BlockingClient.ReceiveOrClosed(socket, length));

    private static string ReceiveUntilClosed(Socket socket) => Resp.Text(BlockingClient.ReceiveUntilClosed(socket));

    private static void Eventually(Func<bool> condition, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, what());
            Thread.Sleep(5);   // polling a condition the test cannot wait on (another process's descriptors), with a deadline
        }
    }

    /// <summary>The MiniRedis program as a child process under <c>prlimit</c>, started and stopped with deadlines.</summary>
    private sealed class ChildServer : IDisposable
    {
        /// <summary>Starting a runtime on a loaded CI machine may take long: generous, it only bounds a failure.</summary>
        private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

        private readonly Process _process;
        private readonly Task<string> _errors;

        private ChildServer(Process process, Task<string> errors, int port)
        {
            _process = process;
            _errors = errors;
            Port = port;
        }

        public int Port { get; }

        public bool HasExited => _process.HasExited;

        public static ChildServer Start(int descriptorLimit)
        {
            string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            var start = new ProcessStartInfo("prlimit", [$"--nofile={descriptorLimit}:{descriptorLimit}", dotnet, Path.Combine(AppContext.BaseDirectory, "MiniRedis.dll"), "0"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };

            // The runtime's tier-up thread exits after 4 s idle and is re-created on demand, and tiering waits for 100 ms
            // without new methods before it counts calls; make both immediate, so that a server that tiers (and so
            // creates threads) while out of descriptors fails here at once rather than some time later.
            start.Environment["DOTNET_TC_BackgroundWorkerTimeoutMs"] = "0";
            start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
            Process process = Process.Start(start)!;
            Task<string> errors = process.StandardError.ReadToEndAsync();
            Task<string?> line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(StartDeadline) || line.Result is not { } first || !first.StartsWith("listening on 127.0.0.1:", StringComparison.Ordinal))
            {
                process.Kill();
                process.WaitForExit();
                string message = $"MiniRedis did not start under prlimit --nofile={descriptorLimit}: '{(line.IsCompleted ? line.Result : "(no line)")}' {errors.Result}";
                process.DisposeWithStreams();
                throw new Xunit.Sdk.XunitException(message);
            }

            return new ChildServer(process, errors, int.Parse(first[(first.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
        }

        /// <summary>The server's sockets (listener and connections); the runtime's own pipes and files are not counted.</summary>
        public int OpenSockets() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd")
            .Count(fd => { try { return new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true; } catch (IOException) { return false; } });

        public int OpenDescriptors() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd").Length;

        public string Output() => _process.HasExited ? _errors.Result : "(running)";

        public (int ExitCode, string Output) Terminate()
        {
            using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(_process.WaitForExit(Deadline), "MiniRedis exits after SIGTERM");
            return (_process.ExitCode, _process.StandardOutput.ReadToEnd() + _errors.Result);
        }

        public void Dispose() => _process.KillAndDispose();
    }
}
