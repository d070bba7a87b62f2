using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Benchmarks;

/// <summary>
/// One 64-byte write and the matching read on a connected loopback TCP pair, both non-blocking:
/// Polling's TcpStream.TryWrite/TryRead against System.Net.Sockets.Socket.Send/Receive (the baseline,
/// using the SocketError overloads so that "would block" does not throw either). A second category
/// measures a read that would block (an empty socket), where the kernel does little and the wrapper shows.
/// </summary>
/// <example>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*TcpRoundTrip*' --job short</example>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TcpRoundTripBenchmarks
{
    private readonly byte[] _outgoing = new byte[64];
    private readonly byte[] _incoming = new byte[64];
    private TcpStream _client = null!;
    private TcpStream _server = null!;
    private Socket _socketClient = null!;
    private Socket _socketServer = null!;

    [GlobalSetup]
    public void Setup()
    {
        using (var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            _client = TcpStream.Connect(listener.LocalEndPoint);
            TcpStream? server;
            while (!listener.TryAccept(out server))
            {
                Thread.Sleep(1);
            }

            _server = server;
            _client.NoDelay = true;
        }

        using var socketListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socketListener.Listen();
        _socketClient = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socketClient.Connect(socketListener.LocalEndPoint!);
        _socketServer = socketListener.Accept();
        _socketClient.Blocking = false;
        _socketServer.Blocking = false;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
        _socketClient.Dispose();
        _socketServer.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Socket Send+Receive (non-blocking)")]
    [BenchmarkCategory("RoundTrip")]
    public int SocketRoundTrip()
    {
        int sent = _socketClient.Send(_outgoing, SocketFlags.None, out SocketError error);
        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }

        Require.That(sent == _outgoing.Length, $"Send took {sent} of {_outgoing.Length} bytes");

        int received = 0;
        while (received < sent)
        {
            int n = _socketServer.Receive(_incoming.AsSpan(received), SocketFlags.None, out error);
            if (error == SocketError.Success)
            {
                Require.That(n > 0, "Receive: end of stream");
                received += n;
            }
            else if (error != SocketError.WouldBlock)
            {
                throw new SocketException((int)error);
            }
        }

        return received;
    }

    [Benchmark(Description = "TcpStream TryWrite+TryRead")]
    [BenchmarkCategory("RoundTrip")]
    public int PollingRoundTrip()
    {
        Require.That(_client.TryWrite(_outgoing, out int sent) && sent == _outgoing.Length, $"TryWrite took {sent} of {_outgoing.Length} bytes");
        int received = 0;
        while (received < sent)
        {
            if (_server.TryRead(_incoming.AsSpan(received), out int n))
            {
                Require.That(n > 0, "TryRead: end of stream");
                received += n;
            }
        }

        return received;
    }

    [Benchmark(Baseline = true, Description = "Socket Receive, would block")]
    [BenchmarkCategory("WouldBlock")]
    public SocketError SocketWouldBlock()
    {
        _socketServer.Receive(_incoming, SocketFlags.None, out SocketError error);
        Require.That(error == SocketError.WouldBlock, $"Receive would block, not {error}");
        return error;
    }

    [Benchmark(Description = "TcpStream TryRead, would block")]
    [BenchmarkCategory("WouldBlock")]
    public bool PollingWouldBlock()
    {
        bool read = _server.TryRead(_incoming, out _);
        Require.That(!read, "TryRead would block");
        return read;
    }
}
