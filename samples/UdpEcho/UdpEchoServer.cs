using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;

namespace UdpEcho;

/// <summary>
/// A UDP echo server on one <see cref="Poll"/> — the libev example's loop: on each readable event, receive
/// datagrams until the socket is empty and send each one back to its sender. It allocates nothing per datagram:
/// one receive buffer and one <see cref="SocketAddress"/> for the sender are reused for every datagram.
/// </summary>
/// <remarks>
/// When the kernel's send buffer is full, the server keeps the one unsent reply (in the receive buffer, with its
/// address), stops reading and waits for <see cref="Interest.Writable"/>; meanwhile new datagrams queue in the
/// kernel's receive buffer (and beyond that the kernel drops them — UDP has no flow control towards the client).
/// A reply the kernel refuses outright (e.g. to an unroutable source address) is counted in
/// <see cref="DatagramsDropped"/> and the server carries on.
/// </remarks>
/// <example>
/// <code>
/// using var server = new UdpEchoServer(new IPEndPoint(IPAddress.Loopback, 0));
/// var thread = new Thread(server.Run);
/// thread.Start();
/// Console.WriteLine($"echoing on {server.LocalEndPoint}");
/// ...
/// server.Stop();
/// thread.Join();
/// </code>
/// </example>
public sealed class UdpEchoServer : IDisposable
{
    /// <summary>The largest UDP payload (65,535 − 8-byte UDP header − 20-byte IPv4 header); longer datagrams cannot exist.</summary>
    public const int MaxDatagram = 65_507;

    private const Token SocketToken = (Token)0;
    private const Token StopToken = (Token)1;

    private readonly Poll _poll;
    private readonly UdpSocket _socket;
    private readonly Waker _stop;
    private readonly byte[] _buffer = new byte[MaxDatagram];
    private readonly SocketAddress _peer;
    private readonly Events _events = new(64);
    private int _pendingLength = -1;
    private long _echoed;
    private long _dropped;
    private volatile bool _stopping;

    /// <summary>Binds the socket and prepares the loop; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen, e.g. 127.0.0.1:9001 (port 0 picks a free port).</param>
    /// <exception cref="SocketException">The address is in use or not available.</exception>
    public UdpEchoServer(IPEndPoint endpoint)
    {
        _poll = new Poll();
        try
        {
            _socket = UdpSocket.Bind(endpoint);
            _stop = new Waker(_poll.Registry, StopToken);
            _poll.Registry.Register(_socket, SocketToken, Interest.Readable);
        }
        catch
        {
            _socket?.Dispose();
            _poll.Dispose();
            throw;
        }

        _peer = new SocketAddress(_socket.AddressFamily);
        LocalEndPoint = _socket.LocalEndPoint;
    }

    /// <summary>The address clients send to (with the actual port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Datagrams sent back so far. Readable from any thread.</summary>
    public long DatagramsEchoed => Interlocked.Read(ref _echoed);

    /// <summary>Replies the kernel refused to send (e.g. to an unroutable source) and receives it failed. Readable from any thread.</summary>
    public long DatagramsDropped => Interlocked.Read(ref _dropped);

    /// <summary>Makes <see cref="Run()"/> return soon. Thread-safe; may be called from a signal handler.</summary>
    public void Stop()
    {
        _stopping = true;
        _stop.Wake();
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Stop);
        Run();
    }

    /// <summary>
    /// Serves on the calling thread until <see cref="Stop"/> is called; then sends the one reply that may still wait
    /// for room in the send buffer (for at most <see cref="ShutdownGrace"/>) and returns.
    /// </summary>
    public void Run()
    {
        while (!_stopping)
        {
            RunOnce();
        }

        var deadline = DateTime.UtcNow + ShutdownGrace;
        while (_pendingLength >= 0 && DateTime.UtcNow < deadline)
        {
            if (Reply(_pendingLength))
            {
                _pendingLength = -1;
                break;
            }

            _poll.Wait(_events, TimeSpan.FromMilliseconds(10));
        }
    }

    /// <summary>How long <see cref="Run()"/> keeps trying to send a reply still pending at <see cref="Stop"/>. Default 1 s.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// One turn of the loop: waits (up to <paramref name="timeout"/>; <see langword="null"/> = until something
    /// happens) and handles what arrived. For driving the server step by step from your own loop or a test.
    /// </summary>
    /// <returns>The number of events handled.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        int count = _poll.Wait(_events, timeout);
        foreach (Event ev in _events)
        {
            if (ev.Token == SocketToken)
            {
                Echo();
            }
        }

        return count;
    }

    /// <summary>Closes the socket, the waker and the Poll.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        _stop.Dispose();
        _poll.Dispose();
    }

    private void Echo()
    {
        if (_pendingLength >= 0)
        {
            if (!Reply(_pendingLength))
            {
                return;
            }

            _pendingLength = -1;
            _poll.Registry.Reregister(_socket, SocketToken, Interest.Readable);
        }

        while (TryReceive(out int length))
        {
            if (!Reply(length))
            {
                // The send buffer is full: keep this reply, stop reading until the socket is writable again.
                _pendingLength = length;
                _poll.Registry.Reregister(_socket, SocketToken, Interest.Writable);
                return;
            }
        }
    }

    /// <summary>
    /// Receives the next datagram; a receive the kernel fails (e.g. an ICMP error queued for the socket, or no
    /// memory) is counted in <see cref="DatagramsDropped"/> and the next datagram is tried, so one client's trouble
    /// never stops the server. The error is consumed by the failed call, so this cannot spin.
    /// </summary>
    private bool TryReceive(out int length)
    {
        for (int failures = 0; ; failures++)
        {
            try
            {
                return _socket.TryReceiveFrom(_buffer, out length, _peer);
            }
            catch (SocketException) when (failures < 64)
            {
                Interlocked.Increment(ref _dropped);
            }
            catch (SocketException)
            {
                length = 0;
                return false; // persistently failing: wait for the next event rather than loop here
            }
        }
    }

    /// <summary>Sends the datagram in the buffer back to <see cref="_peer"/>; false when the send buffer is full.</summary>
    private bool Reply(int length)
    {
        try
        {
            if (!_socket.TrySendTo(_buffer.AsSpan(0, length), _peer, out _))
            {
                return false;
            }

            Interlocked.Increment(ref _echoed);
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _dropped);
        }

        return true;
    }
}
