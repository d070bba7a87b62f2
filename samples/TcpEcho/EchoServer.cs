using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace TcpEcho;

/// <summary>
/// A production TCP echo server on one <see cref="Poll"/>, built from Polling.Net's server building blocks: an
/// <see cref="AcceptLoop"/> (accepts until would-block and survives running out of descriptors), a
/// <see cref="ConnectionTable{T}"/> (late events of closed connections are not misdelivered), an
/// <see cref="OutputQueue"/> per connection (pending echo in pooled chunks; reading pauses above
/// <see cref="HighWaterMark"/>, so a client that does not read cannot grow the server's memory) and
/// <see cref="IdleTimeouts"/> (a client that sends nothing for <see cref="EchoServerOptions.IdleTimeout"/> is closed).
/// </summary>
/// <remarks>
/// Activity is a timestamp touch, not a timer restart: a read or a taken echo stores the batch's clock reading in
/// the connection, and only when a connection's idle timer fires is that stamp checked — still quiet: closed; active
/// since: the timer starts again for the rest of the timeout (as redis's <c>lastinteraction</c> and Netty's
/// <c>IdleStateHandler</c> do). One store per read instead of a timer-wheel unlink and insert and a clock read.
/// </remarks>
/// <remarks>
/// One client's failure (a reset, a refused write) closes that client only. <see cref="Stop"/> shuts down
/// gracefully: the listener closes, reading stops, every connection gets its pending echo and an orderly end of
/// stream (FIN, not a reset), and <see cref="Run()"/> returns once all are closed — at the latest after
/// <see cref="EchoServerOptions.ShutdownGrace"/>. Allocation-free per read and write in steady state.
/// </remarks>
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
    private const Token AcceptRetryToken = (Token)1;
    private const Token StopToken = (Token)2;
    private const Token IdleToken = (Token)3;
    private const Token GraceToken = (Token)4;
    private const Token FirstConnection = (Token)16;

    private readonly EchoServerOptions _options;
    private readonly Poll _poll;
    private readonly AcceptLoop _accept;
    private readonly Waker _stop;
    private readonly IdleTimeouts _idle;
    private readonly TimerSource _grace;
    private readonly ConnectionTable<Connection> _connections = new(FirstConnection, capacity: 1024);
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private readonly Token[] _expired = new Token[64];
    private readonly Events _events = new(1024);
    private volatile bool _stopRequested;
    private bool _shuttingDown;
    private bool _finished;
    private long _idleClosed;
    private long _now; // Stopwatch timestamp of the current batch: what activity in it is stamped with

    /// <summary>Binds the listener (backlog 4096) and prepares the loop with the default options; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen, e.g. 127.0.0.1:9000 (port 0 picks a free port).</param>
    public EchoServer(IPEndPoint endpoint)
        : this(endpoint, new EchoServerOptions())
    {
    }

    /// <summary>Binds the listener and prepares the loop; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen (port 0 picks a free port).</param>
    /// <param name="options">Backend, trigger, timeouts.</param>
    public EchoServer(IPEndPoint endpoint, EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        Warmup.PrepareMethods(typeof(EchoServer)); // the code that first runs when descriptors are exhausted is ready now
        _poll = new Poll(options.Backend);
        try
        {
            var listener = TcpListener.Bind(endpoint, new TcpListenerOptions { Backlog = options.Backlog, ReusePort = options.ReusePort });
            LocalEndPoint = listener.LocalEndPoint;
            _accept = new AcceptLoop(_poll.Registry, listener, ListenerToken, AcceptRetryToken,
                new AcceptLoopOptions { Trigger = options.Trigger, Remedy = options.Remedy, DescriptorHeadroom = options.DescriptorHeadroom });
            _stop = new Waker(_poll.Registry, StopToken);
            _idle = new IdleTimeouts(options.IdleTimeout);
            _poll.Registry.Register(_idle, IdleToken, Interest.Readable);
            _grace = new TimerSource();
            _poll.Registry.Register(_grace, GraceToken, Interest.Readable);
        }
        catch
        {
            _accept?.Dispose();
            _stop?.Dispose();
            _idle?.Dispose();
            _poll.Dispose();
            throw;
        }
    }

    /// <summary>The address clients connect to (with the actual port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => _accept.Accepted;

    /// <summary>The most connections held at once (<see cref="EchoServerOptions.DescriptorHeadroom"/>); <see cref="int.MaxValue"/> without a cap.</summary>
    public int MaxConnections => _accept.MaxConnections;

    /// <summary>Connections accepted and closed at once because descriptors had run out or <see cref="MaxConnections"/> were held.</summary>
    public long ShedConnections => _accept.Shed;

    /// <summary>How many times accepting hit descriptor or memory exhaustion.</summary>
    public long AcceptExhaustions => _accept.Exhausted;

    /// <summary>Connections closed because they stayed quiet for <see cref="EchoServerOptions.IdleTimeout"/>.</summary>
    public long IdleClosedConnections => Volatile.Read(ref _idleClosed);

    /// <summary>Connections open right now.</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>
    /// <c>SO_SNDBUF</c> for accepted connections, in bytes; <see langword="null"/> (the default) leaves the kernel's
    /// auto-tuning on. A fixed size bounds the kernel memory per client, so more of a slow reader's backlog waits in
    /// the server's own pending output (where the high-water mark applies).
    /// </summary>
    public int? ConnectionSendBufferSize { get; init; }

    /// <summary>The most output ever held back for one slow reader, in bytes (0 if every echo went out at once).</summary>
    public int PeakPendingBytes { get; private set; }

    /// <summary>Starts a graceful shutdown; <see cref="Run()"/> returns once it is done. Thread-safe; may be called from a signal handler.</summary>
    public void Stop()
    {
        _stopRequested = true;
        _stop.Wake();
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled (then shuts down gracefully).</summary>
    public void Run(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Stop);
        Run();
    }

    /// <summary>Serves on the calling thread until <see cref="Stop"/> is called and the shutdown has finished.</summary>
    public void Run()
    {
        while (!_finished)
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
        _now = Stopwatch.GetTimestamp();
        foreach (Event ev in _events)
        {
            switch (ev.Token)
            {
                case ListenerToken or AcceptRetryToken:
                    AcceptAll();
                    break;
                case StopToken:
                    if (_stopRequested)
                    {
                        BeginShutdown();
                    }

                    break;
                case IdleToken:
                    CloseIdleConnections();
                    break;
                case GraceToken:
                    if (_grace.TryReadExpirations(out _))
                    {
                        CloseAll(); // the grace period is over: whoever is left is closed now
                    }

                    break;
                default:
                    Serve(ev.Token, ev);
                    break;
            }
        }

        if (_shuttingDown && _connections.Count == 0)
        {
            _finished = true;
        }

        return _events.Count;
    }

    /// <summary>Closes every connection, the listener and the Poll.</summary>
    public void Dispose()
    {
        CloseAll();
        _accept.Dispose();
        _stop.Dispose();
        _idle.Dispose();
        _grace.Dispose();
        _poll.Dispose();
    }

    private void AcceptAll()
    {
        while (_accept.TryAccept(out TcpStream? stream))
        {
            var connection = new Connection(stream);
            Token token = _connections.Add(connection);
            try
            {
                stream.NoDelay = true;
                if (ConnectionSendBufferSize is { } size)
                {
                    stream.SendBufferSize = size;
                }

                _poll.Registry.Register(stream, token, Interest.Readable, _options.Trigger);
                connection.LastActive = _now;
                connection.Idle = _idle.Start(token);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                Close(token); // that client is gone already, or the kernel refused it: the others go on
            }
        }
    }

    private void Serve(Token token, Event ev)
    {
        if (!_connections.TryGet(token, out Connection? connection))
        {
            return; // a late event for a connection closed earlier in this batch
        }

        try
        {
            OutputQueue output = connection.Output;
            if (ev.IsWritable && !output.IsEmpty)
            {
                int before = output.Length;
                output.Flush(connection.Stream);
                if (output.Length < before)
                {
                    connection.LastActive = _now; // the client takes its echo: not idle
                }
            }

            if (!connection.PeerDone)
            {
                // The short-read drain (TcpStream.TryRead's drained) is safe unless this event reports the peer's
                // FIN or urgent data: then read until would-block or end of stream.
                Pump(token, connection, stopAtShortRead: !ev.IsReadClosed && !ev.IsPriority);
            }

            if (_shuttingDown && output.IsEmpty && !connection.SentEnd)
            {
                connection.Stream.Shutdown(SocketShutdown.Send); // all echoed: an orderly end of stream
                connection.SentEnd = true;
            }

            if (output.UpdateInterest(_poll.Registry, connection.Stream, token, _options.Trigger, reading: !connection.PeerDone)
                == InterestUpdate.Close)
            {
                Close(token); // all echoed and the peer is done
            }
        }
        catch (SocketException)
        {
            Close(token); // reset by the peer, or similar: nothing left to echo to
        }
    }

    /// <summary>Reads and echoes until would-block, end of stream, the pending output reaches the high-water mark, or —
    /// with <paramref name="stopAtShortRead"/> — a read shorter than the buffer (one <c>recv</c> per round trip, not two).
    /// While shutting down, what arrives is read and dropped (so closing never resets the connection).</summary>
    private void Pump(Token token, Connection connection, bool stopAtShortRead)
    {
        OutputQueue output = connection.Output;
        bool active = false;
        while (!output.IsAboveHighWaterMark)
        {
            if (!connection.Stream.TryRead(_readBuffer, out int read, out bool drained))
            {
                break;
            }

            if (read == 0)
            {
                connection.PeerDone = true;
                break;
            }

            active = true;
            if (!_shuttingDown)
            {
                output.Write(connection.Stream, _readBuffer.AsSpan(0, read));
                if (output.Length > PeakPendingBytes)
                {
                    PeakPendingBytes = output.Length;
                }
            }

            if (drained && stopAtShortRead)
            {
                break;
            }
        }

        if (active)
        {
            connection.LastActive = _now;
        }
    }

    private void CloseIdleConnections()
    {
        int expired;
        do
        {
            expired = _idle.TakeExpired(_expired);
            long now = Stopwatch.GetTimestamp();
            foreach (Token token in _expired.AsSpan(0, expired))
            {
                if (!_connections.TryGet(token, out Connection? connection))
                {
                    continue;
                }

                TimeSpan quiet = Stopwatch.GetElapsedTime(connection.LastActive, now);
                if (quiet >= _idle.Timeout)
                {
                    _idleClosed++;
                    Close(token);
                }
                else
                {
                    connection.Idle = _idle.Start(token, _idle.Timeout - quiet); // active since: the rest of the timeout
                }
            }
        }
        while (expired == _expired.Length);
    }

    private void BeginShutdown()
    {
        if (_shuttingDown)
        {
            return;
        }

        _shuttingDown = true;
        _accept.Stop();
        _grace.SetOnce(_options.ShutdownGrace);
        foreach (KeyValuePair<Token, Connection> entry in _connections)
        {
            Connection connection = entry.Value;
            try
            {
                if (connection.Output.IsEmpty)
                {
                    connection.Stream.Shutdown(SocketShutdown.Send);
                    connection.SentEnd = true;
                }
            }
            catch (SocketException)
            {
                Close(entry.Key);
            }
        }
    }

    private void CloseAll()
    {
        foreach (KeyValuePair<Token, Connection> entry in _connections)
        {
            Close(entry.Key);
        }
    }

    private void Close(Token token)
    {
        if (_connections.Remove(token, out Connection? connection))
        {
            _idle.Cancel(connection.Idle);
            connection.Output.Clear();
            connection.Stream.Dispose();
            _accept.ConnectionClosed(); // a paused accept loop may take the next client now
        }
    }

    /// <summary>One client: its stream, the bytes it has not taken back yet, its idle timer and last activity.</summary>
    private sealed class Connection(TcpStream stream)
    {
        public TimerKey Idle;

        /// <summary>Stopwatch timestamp of the last read or taken echo (checked when <see cref="Idle"/> fires).</summary>
        public long LastActive;

        public TcpStream Stream { get; } = stream;

        public OutputQueue Output { get; } = new(HighWaterMark);

        public bool PeerDone { get; set; }

        public bool SentEnd { get; set; }
    }
}
