using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Polling.Net;

namespace Polling.Benchmarks;

/// <summary>
/// One datagram sent to a loopback UDP socket and received there, addresses in caller-owned
/// <see cref="SocketAddress"/>es on both sides: Polling's UdpSocket.TrySendTo/TryReceiveFrom against
/// System.Net.Sockets.Socket.SendTo/ReceiveFrom(…, SocketAddress) on non-blocking sockets (the baseline; the
/// allocation-free overloads .NET 8 added for exactly this).
/// </summary>
/// <example>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*UdpSendReceive*' --job short</example>
[MemoryDiagnoser]
public class UdpSendReceiveBenchmarks
{
    private byte[] _outgoing = null!;
    private readonly byte[] _incoming = new byte[2048];
    private UdpSocket _client = null!;
    private UdpSocket _server = null!;
    private SocketAddress _serverAddress = null!;
    private readonly SocketAddress _source = new(AddressFamily.InterNetwork);
    private Socket _socketClient = null!;
    private Socket _socketServer = null!;
    private SocketAddress _socketServerAddress = null!;

    /// <summary>Payload size in bytes.</summary>
    [Params(64, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _outgoing = new byte[Size];
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        _client = UdpSocket.Bind(loopback);
        _server = UdpSocket.Bind(loopback);
        _serverAddress = _server.LocalEndPoint.Serialize();

        _socketClient = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        _socketServer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        _socketClient.Bind(loopback);
        _socketServer.Bind(loopback);
        _socketServerAddress = _socketServer.LocalEndPoint!.Serialize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
        _socketClient.Dispose();
        _socketServer.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Socket SendTo+ReceiveFrom(SocketAddress), non-blocking")]
    public int SocketSendToReceiveFrom()
    {
        Require.That(_socketClient.SendTo(_outgoing, SocketFlags.None, _socketServerAddress) == _outgoing.Length, "SendTo sends the datagram");
        int received = _socketServer.ReceiveFrom(_incoming, SocketFlags.None, _source);
        Require.That(received == _outgoing.Length, $"ReceiveFrom got {received} of {_outgoing.Length} bytes");
        return received;
    }

    [Benchmark(Description = "UdpSocket TrySendTo+TryReceiveFrom(SocketAddress)")]
    public int PollingSendToReceiveFrom()
    {
        Require.That(_client.TrySendTo(_outgoing, _serverAddress, out int sent) && sent == _outgoing.Length, "TrySendTo sends the datagram");
        Require.That(_server.TryReceiveFrom(_incoming, out int received, _source) && received == _outgoing.Length, $"TryReceiveFrom got the datagram ({received} of {_outgoing.Length} bytes)");
        return received;
    }
}
