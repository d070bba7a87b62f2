using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace TcpEcho;

/// <summary>
/// A TCP echo server on one <see cref="Poll"/>: edge-triggered, a slab of connections indexed by token, one
/// fixed read buffer for the whole loop, and per-connection pending output when a peer reads slower than it
/// writes (Writable interest is registered only while output is pending; reading pauses above a high-water
/// mark, so memory stays bounded). Allocation-free per read and write once the buffers have grown.
/// </summary>
/// <example>
/// <code>
/// using var server = new EchoServer(new IPEndPoint(IPAddress.Loopback, 0));
/// var thread = new Thread(() => server.Run());
/// thread.Start();
/// Console.WriteLine($"echoing on {server.LocalEndPoint}");
/// ...
/// server.Stop();
/// thread.Join();
/// </code>
/// </example>
public sealed class EchoServer : IDisposable
{
    /// <summary>Stop reading from a connection while this many bytes wait to be echoed back to it.</summary>
    public const int HighWaterMark = 256 * 1024;

    private const Token ListenerToken = (Token)0;
    private const Token StopToken = (Token)1;
    private const ulong FirstConnection = 2;

    private readonly Poll _poll;
    private readonly TcpListener _listener;
    private readonly Waker _stop;
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private readonly Events _events = new(1024);
    private readonly Stack<int> _freeSlots = new();
    private Connection?[] _connections = new Connection?[64];
    private int _slotsInUse;
    private volatile bool _stopping;

    /// <summary>Binds the listener (backlog 4096) and prepares the loop; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen, e.g. 127.0.0.1:9000 (port 0 picks a free port).</param>
    public EchoServer(IPEndPoint endpoint)
        : this(endpoint, reusePort: false)
    {
    }

    /// <summary>
    /// As <see cref="EchoServer(IPEndPoint)"/>; with <paramref name="reusePort"/> the listener sets <c>SO_REUSEPORT</c>, so
    /// several servers (one per event loop, see <see cref="EchoLoops"/>) can listen on the same port and the kernel
    /// spreads new connections over them.
    /// </summary>
    public EchoServer(IPEndPoint endpoint, bool reusePort)
    {
        _poll = new Poll();
        _listener = TcpListener.Bind(endpoint, new TcpListenerOptions { Backlog = 4096, ReusePort = reusePort });
        _stop = new Waker(_poll.Registry, StopToken);
        _poll.Registry.Register(_listener, ListenerToken, Interest.Readable);
        LocalEndPoint = _listener.LocalEndPoint;
    }

    /// <summary>The address clients connect to (with the actual port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections { get; private set; }

    /// <summary>Connections open right now.</summary>
    public int OpenConnections => _slotsInUse;

    /// <summary>
    /// <c>SO_SNDBUF</c> for accepted connections, in bytes; <see langword="null"/> (the default) leaves the kernel's
    /// auto-tuning on. A fixed size bounds the kernel memory per client, so more of a slow reader's backlog waits in
    /// the server's own pending buffer (where the high-water mark applies).
    /// </summary>
    public int? ConnectionSendBufferSize { get; init; }

    /// <summary>The most output ever held back for one slow reader, in bytes (0 if every echo went out at once).</summary>
    public int PeakPendingBytes { get; private set; }

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

    /// <summary>Serves on the calling thread until <see cref="Stop"/> is called.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            RunOnce();
        }
    }

    /// <summary>
    /// Waits for one batch of events (up to <paramref name="timeout"/>; <see langword="null"/> = until something
    /// happens) and handles it: the loop body of <see cref="Run()"/>, for driving the server step by step.
    /// </summary>
    /// <returns>The number of events handled.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        _poll.Wait(_events, timeout);
        foreach (Event ev in _events)
        {
            switch (ev.Token)
            {
                case ListenerToken:
                    AcceptAll();
                    break;
                case StopToken:
                    break;
                default:
                    Serve((int)((ulong)ev.Token - FirstConnection), ev);
                    break;
            }
        }

        return _events.Count;
    }

    /// <summary>Closes every connection, the listener and the Poll.</summary>
    public void Dispose()
    {
        for (int slot = 0; slot < _connections.Length; slot++)
        {
            _connections[slot]?.Stream.Dispose();
            _connections[slot] = null;
        }

        _listener.Dispose();
        _stop.Dispose();
        _poll.Dispose();
    }

    private void AcceptAll()
    {
        while (true)
        {
            TcpStream? stream;
            try
            {
                if (!_listener.TryAccept(out stream))
                {
                    return;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionAborted)
            {
                continue; // the client gave up before we accepted it: take the next one
            }
            catch (SocketException e)
            {
                // E.g. out of descriptors: stop accepting for now; the next readable edge (a new client) retries.
                Console.Error.WriteLine($"accept failed: {e.Message}");
                return;
            }

            stream.NoDelay = true;
            if (ConnectionSendBufferSize is { } size)
            {
                stream.SendBufferSize = size;
            }

            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotsInUse;
            if (slot == _connections.Length)
            {
                Array.Resize(ref _connections, _connections.Length * 2);
            }

            var connection = new Connection(stream);
            _connections[slot] = connection;
            _slotsInUse++;
            AcceptedConnections++;
            _poll.Registry.Register(stream, (Token)(FirstConnection + (ulong)slot), Interest.Readable);

            // Data may already be waiting; edge triggering reports it anyway (the registration is new), so the
            // first readable event handles it.
        }
    }

    private void Serve(int slot, Event ev)
    {
        if (_connections[slot] is not { } connection)
        {
            return; // a late event for a connection closed earlier in this batch
        }

        try
        {
            // The short-read drain (TcpStream.TryRead's drained) is safe unless this event reports the peer's FIN or
            // urgent data: then read until would-block or end of stream.
            bool stopAtShortRead = !ev.IsReadClosed && !ev.IsPriority;
            if (ev.IsWritable && !Flush(connection, stopAtShortRead))
            {
                return;
            }

            // Readable, read-closed or error: read until the kernel has nothing more (edge triggering).
            if (ev.IsReadable || ev.IsReadClosed || ev.IsError)
            {
                Pump(connection, stopAtShortRead);
            }

            if (connection.PeerDone && connection.Pending == 0)
            {
                Close(slot);
                return;
            }

            UpdateInterest(slot, connection);
        }
        catch (SocketException)
        {
            Close(slot); // reset by peer, or similar: nothing left to echo to
        }
    }

    /// <summary>
    /// Reads and echoes until would-block, end of stream, the pending output reaches the high-water mark, or — with
    /// <paramref name="stopAtShortRead"/> — a read shorter than the buffer (one <c>recv</c> per round trip, not two).
    /// </summary>
    private void Pump(Connection connection, bool stopAtShortRead)
    {
        while (!connection.PeerDone && connection.Pending < HighWaterMark)
        {
            if (!connection.Stream.TryRead(_readBuffer, out int read, out bool drained))
            {
                return;
            }

            if (read == 0)
            {
                connection.PeerDone = true;
                return;
            }

            ReadOnlySpan<byte> data = _readBuffer.AsSpan(0, read);
            if (connection.Pending == 0 && connection.Stream.TryWrite(data, out int written))
            {
                data = data[written..];
            }

            connection.Enqueue(data);
            PeakPendingBytes = Math.Max(PeakPendingBytes, connection.Pending);
            if (drained && stopAtShortRead)
            {
                return;
            }
        }
    }

    /// <summary>Writes pending output; returns false if the connection was closed. Resumes reading once drained.</summary>
    private bool Flush(Connection connection, bool stopAtShortRead)
    {
        while (connection.Pending > 0)
        {
            if (!connection.Stream.TryWrite(connection.PendingSpan, out int written))
            {
                return true; // still full: wait for the next writable event
            }

            connection.Consume(written);
        }

        // Reading may have paused at the high-water mark with data left in the kernel: with edge triggering no
        // new event would come for it, so pump now.
        Pump(connection, stopAtShortRead);
        return true;
    }

    private void UpdateInterest(int slot, Connection connection)
    {
        bool wantWritable = connection.Pending > 0;
        if (wantWritable != connection.WritableRegistered)
        {
            Interest interest = wantWritable ? Interest.Readable | Interest.Writable : Interest.Readable;
            _poll.Registry.Reregister(connection.Stream, (Token)(FirstConnection + (ulong)slot), interest);
            connection.WritableRegistered = wantWritable;
        }
    }

    private void Close(int slot)
    {
        _connections[slot]!.Stream.Dispose();
        _connections[slot] = null;
        _freeSlots.Push(slot);
        _slotsInUse--;
    }

    /// <summary>One client: its stream and the bytes read from it that it has not taken back yet.</summary>
    private sealed class Connection(TcpStream stream)
    {
        private byte[] _pending = [];
        private int _start;

        public TcpStream Stream { get; } = stream;

        public int Pending { get; private set; }

        public bool PeerDone { get; set; }

        public bool WritableRegistered { get; set; }

        public ReadOnlySpan<byte> PendingSpan => _pending.AsSpan(_start, Pending);

        public void Enqueue(ReadOnlySpan<byte> data)
        {
            if (data.IsEmpty)
            {
                return;
            }

            if (_start + Pending + data.Length > _pending.Length)
            {
                // Compact, and grow only if that is not enough (the buffer is reused afterwards).
                if (Pending + data.Length > _pending.Length)
                {
                    var grown = new byte[Math.Max(Pending + data.Length, Math.Max(4096, _pending.Length * 2))];
                    PendingSpan.CopyTo(grown);
                    _pending = grown;
                }
                else
                {
                    PendingSpan.CopyTo(_pending);
                }

                _start = 0;
            }

            data.CopyTo(_pending.AsSpan(_start + Pending));
            Pending += data.Length;
        }

        public void Consume(int count)
        {
            _start += count;
            Pending -= count;
            if (Pending == 0)
            {
                _start = 0;
            }
        }
    }
}
