using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Polling.Net;
using TcpEcho;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

/// <summary>The TcpEcho sample's server, in-process, against real non-blocking clients driven by a second Poll.</summary>
public class TcpEchoTests
{
    [Fact]
    public void Echoes_every_byte_for_a_thousand_concurrent_clients()
    {
        const int Clients = 1000;
        const int MessageSize = 4096;
        using var server = new EchoServer(LoopbackAny);
        using var cancel = new CancellationTokenSource();
        var serverThread = new Thread(() => server.Run(cancel.Token)) { Name = "echo server" };
        serverThread.Start();
        try
        {
            var states = new ClientState[Clients];
            for (int i = 0; i < Clients; i++)
            {
                var message = new byte[MessageSize];
                new Random(i).NextBytes(message);
                states[i] = new ClientState(TcpStream.Connect(server.LocalEndPoint), message);
            }

            RunClients(states, readLimitPerEvent: int.MaxValue, TimeSpan.FromSeconds(90));
            Assert.Equal(Clients, server.AcceptedConnections);
        }
        finally
        {
            cancel.Cancel();
            Assert.True(serverThread.Join(Deadline), "the server stops when cancelled");
        }

        Assert.Equal(0, server.OpenConnections);
    }

    [Fact]
    public void Echoes_one_mebibyte_messages_to_slow_readers()
    {
        const int Clients = 4;
        const int MessageSize = 1024 * 1024;
        using var server = new EchoServer(LoopbackAny) { ConnectionSendBufferSize = 64 * 1024 };
        using var cancel = new CancellationTokenSource();
        var serverThread = new Thread(() => server.Run(cancel.Token)) { Name = "echo server" };
        serverThread.Start();
        try
        {
            var states = new ClientState[Clients];
            for (int i = 0; i < Clients; i++)
            {
                var message = new byte[MessageSize];
                new Random(100 + i).NextBytes(message);
                var stream = TcpStream.Connect(server.LocalEndPoint);
                stream.ReceiveBufferSize = 64 * 1024; // a bounded window, read 16 KiB per round: a slow reader
                states[i] = new ClientState(stream, message);
            }

            RunClients(states, readLimitPerEvent: 16 * 1024, TimeSpan.FromSeconds(120));
        }
        finally
        {
            cancel.Cancel();
            Assert.True(serverThread.Join(Deadline));
        }

        Assert.True(server.PeakPendingBytes > 0, "the slow readers should have forced the server to hold output back");
        Assert.True(server.PeakPendingBytes <= EchoServer.HighWaterMark + 64 * 1024, $"pending output is bounded, was {server.PeakPendingBytes}");
    }

    [Fact]
    public void The_program_prints_its_port_echoes_and_exits_zero_on_sigterm()
    {
        string program = typeof(EchoServer).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { program, "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        using StreamReader output = process.StandardOutput, errors = process.StandardError; // Process.Dispose leaves touched streams open
        try
        {
            Task<string?> firstLine = output.ReadLineAsync();
            Assert.True(firstLine.Wait(Deadline), "the program did not print where it listens");
            string? line = firstLine.Result;
            Assert.NotNull(line);
            Assert.Matches(@"^listening on 127\.0\.0\.1:\d+$", line);
            int port = int.Parse(line[(line.LastIndexOf(':') + 1)..]);
            Assert.NotEqual(0, port);

            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                client.Connect(new IPEndPoint(IPAddress.Loopback, port));
                client.Send("echo me"u8);
                var reply = new byte[7];
                int got = 0;
                while (got < reply.Length)
                {
                    got += client.Receive(reply.AsSpan(got));
                }

                Assert.Equal("echo me"u8.ToArray(), reply);
            }

            Assert.Equal(0, Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGTERM));
            Assert.True(process.WaitForExit((int)Deadline.TotalMilliseconds), "the server exits after SIGTERM");
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("stopped after 1 connections", output.ReadToEnd());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    /// <summary>
    /// Drives all clients on one edge-triggered Poll: write the whole message (as fast as the server takes it),
    /// shut down sending, read the echo back (at most <paramref name="readLimitPerEvent"/> bytes per event, then
    /// wait for the next one), then expect end of stream. Verifies every byte.
    /// </summary>
    private static void RunClients(ClientState[] states, int readLimitPerEvent, TimeSpan limit)
    {
        using var poll = new Poll();
        var events = new Events(1024);
        for (int i = 0; i < states.Length; i++)
        {
            poll.Registry.Register(states[i].Stream, (Token)(ulong)i, Interest.Readable | Interest.Writable);
        }

        int finished = 0;
        DateTime end = DateTime.UtcNow + limit;
        var throttled = new HashSet<int>();
        while (finished < states.Length)
        {
            if (DateTime.UtcNow > end)
            {
                int stuck = Array.FindIndex(states, s => !s.Done);
                Assert.Fail($"{finished}/{states.Length} clients finished; client {stuck}: sent {states[stuck].Sent}, received {states[stuck].Received}");
            }

            // A throttled (slow) reader has more data waiting but chose to stop; it resumes on the next round.
            poll.Wait(events, throttled.Count > 0 ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromMilliseconds(200));
            var ready = new HashSet<int>(throttled);
            throttled.Clear();
            foreach (Event ev in events)
            {
                ready.Add((int)(ulong)ev.Token);
            }

            foreach (int index in ready)
            {
                ClientState state = states[index];
                if (state.Done)
                {
                    continue;
                }

                state.Pump(readLimitPerEvent, out bool stoppedEarly);
                if (stoppedEarly)
                {
                    throttled.Add(index);
                }

                if (state.Done)
                {
                    finished++;
                    state.Stream.Dispose();
                }
            }
        }
    }

    private sealed class ClientState(TcpStream stream, byte[] message)
    {
        private readonly byte[] _received = new byte[message.Length];
        private readonly byte[] _overflow = new byte[1];
        private bool _connected;

        public TcpStream Stream { get; } = stream;

        public int Sent { get; private set; }

        public int Received { get; private set; }

        public bool Done { get; private set; }

        public void Pump(int readLimit, out bool stoppedEarly)
        {
            stoppedEarly = false;
            if (!_connected)
            {
                Assert.Equal(System.Net.Sockets.SocketError.Success, Stream.TakeError());
                try
                {
                    _ = Stream.RemoteEndPoint;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return; // handshake still running: wait for the writable event
                }

                _connected = true;
            }

            while (Sent < message.Length && Stream.TryWrite(message.AsSpan(Sent), out int written))
            {
                Sent += written;
                if (Sent == message.Length)
                {
                    Stream.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                }
            }

            int budget = readLimit;
            while (budget > 0)
            {
                Span<byte> into = Received < _received.Length ? _received.AsSpan(Received, Math.Min(budget, _received.Length - Received)) : _overflow;
                if (!Stream.TryRead(into, out int read))
                {
                    return;
                }

                if (read == 0)
                {
                    Assert.Equal(message.Length, Received);
                    Assert.True(message.AsSpan().SequenceEqual(_received), "every echoed byte matches what was sent");
                    Done = true;
                    return;
                }

                Assert.True(Received + read <= message.Length, "the server echoed more than was sent");
                Received += read;
                budget -= read;
            }

            stoppedEarly = true;
        }
    }
}
