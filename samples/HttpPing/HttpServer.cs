using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace HttpPing;

/// <summary>
/// An HTTP/1.1 server on one <see cref="Poll"/>, as a hand-written <c>switch (ev.Token)</c> loop: <c>GET /ping</c>
/// answers <c>200 PONG</c>, every other path 404; keep-alive, pipelining and requests split over any number of reads
/// work; bad input gets 400/413/414/431/505 and a close; slow clients are closed after
/// <see cref="HttpServerOptions.IdleTimeout"/>. Built on Polling.Net's server blocks: <see cref="AcceptLoop"/> (with the
/// descriptor-exhaustion remedy), <see cref="ConnectionTable{T}"/>, <see cref="OutputQueue"/> and
/// <see cref="IdleTimeouts"/>.
/// </summary>
/// <remarks>
/// <para><b>One read, one write.</b> Each readiness gets one read into a buffer shared by all connections (the
/// unconsumed end of a split request, at most <see cref="HttpServerOptions.MaxHeaderBytes"/>, is carried in front of
/// it); every request completed by that read is answered by copying precomputed bytes into the connection's output
/// queue, which is flushed once. A read shorter than the buffer means the socket is drained (epoll signals every
/// later arrival), so no second read waits for would-block. Nothing is allocated per request.</para>
/// <para><b>Bounded.</b> Per connection at most one carried partial line (≤ the head limit) and the output of one read
/// beyond the output queue's high-water mark; reading pauses above it. Bodies are skipped as they stream.</para>
/// <para><b>Idle.</b> A connection's deadline restarts only when a request completes, so a client that trickles a
/// request byte by byte (slowloris) is closed after the idle time just like one that says nothing.</para>
/// <para><b>Closing.</b> After an error or a request that ends the connection, the server sends what is queued,
/// shuts down its sending side, and discards input until the client closes (at most
/// <see cref="HttpServerOptions.LingerTimeout"/>), so that the client reads the last response rather than a reset.</para>
/// </remarks>
/// <example>
/// <code>
/// using var server = new HttpServer(new IPEndPoint(IPAddress.Loopback, 8080));
/// var thread = new Thread(() => server.Run());
/// thread.Start();
/// // curl http://127.0.0.1:8080/ping  -> PONG
/// server.Stop();
/// thread.Join();
/// </code>
/// </example>
public sealed class HttpServer : IDisposable
{
    private const Token ListenerToken = (Token)0;
    private const Token AcceptRetryToken = (Token)1;
    private const Token StopToken = (Token)2;
    private const Token TimeoutsToken = (Token)3;
    private const Token FirstConnection = (Token)16;

    /// <summary>Connection objects kept for reuse after their clients leave.</summary>
    private const int MaxPooledConnections = 1024;

    private readonly HttpServerOptions _options;
    private readonly Poll _poll;
    private readonly AcceptLoop _accept;
    private readonly Waker _stop;
    private readonly IdleTimeouts _idle;
    private readonly ConnectionTable<Connection> _connections = new(FirstConnection, 256);
    private readonly Stack<Connection> _pool = new();
    private readonly HttpResponses _responses = new();
    private readonly Events _events = new(1024);
    private readonly Token[] _expired = new Token[64];
    private readonly byte[] _buffer;
    private readonly byte[] _answers = new byte[32 * 1024];
    private int _answersLength;
    private readonly long _idleMilliseconds;
    private long _now; // Environment.TickCount64 after the last Wait: the clock of the idle deadlines
    private readonly int _carryRoom;
    private readonly bool _shortReadDrains;
    private volatile bool _stopping;

    /// <summary>Binds the listener and prepares the loop; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen, e.g. 127.0.0.1:8080 (port 0 picks a free port).</param>
    /// <param name="options">Limits and timeouts; <see langword="null"/> for the defaults.</param>
    public HttpServer(IPEndPoint endpoint, HttpServerOptions? options = null)
    {
        // Compile everything now, while descriptors are plentiful: a branch first run when they are exhausted (the
        // first reset, idle close or shutdown) could not load the assemblies it needs.
        Warmup.PrepareMethods(typeof(HttpServer));
        Warmup.PrepareMethods(typeof(HttpRequestParser));
        Warmup.PrepareMethods(typeof(HttpResponses));
        _options = options ?? new HttpServerOptions();
        _carryRoom = new HttpRequestParser(_options.MaxHeaderBytes, _options.MaxBodyBytes).MaxUnconsumedBytes;
        _buffer = new byte[_carryRoom + _options.ReadBufferSize];
        _poll = new Poll(_options.Backend);
        _idleMilliseconds = (long)Math.Ceiling(_options.IdleTimeout.TotalMilliseconds);
        _shortReadDrains = _poll.Backend == PollBackend.Epoll;
        try
        {
            TcpListener listener = TcpListener.Bind(endpoint, new TcpListenerOptions { Backlog = 4096 });
            LocalEndPoint = listener.LocalEndPoint;
            _accept = new AcceptLoop(_poll.Registry, listener, ListenerToken, AcceptRetryToken,
                new AcceptLoopOptions { DescriptorHeadroom = _options.DescriptorHeadroom });
            _stop = new Waker(_poll.Registry, StopToken);
            _idle = new IdleTimeouts(_options.IdleTimeout);
            _poll.Registry.Register(_idle, TimeoutsToken, Interest.Readable);
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

    /// <summary>Connections open right now.</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>Requests answered with 200, 404 or 405.</summary>
    public long Requests { get; private set; }

    /// <summary>Requests refused with a protocol error (400, 413, 414, 431, 505).</summary>
    public long ProtocolErrors { get; private set; }

    /// <summary>The most response bytes ever queued for one connection (bounded: the high-water mark plus one read's answers).</summary>
    public int PeakQueuedBytes { get; private set; }

    /// <summary>Connections closed because their idle time ran out.</summary>
    public long IdleClosed { get; private set; }

    /// <summary>The most connections held at once (<see cref="HttpServerOptions.DescriptorHeadroom"/>); <see cref="int.MaxValue"/> when unbounded.</summary>
    public int MaxClients => _accept.MaxConnections;

    /// <summary>Connections accepted and closed at once because <see cref="MaxClients"/> were held or descriptors ran out.</summary>
    public long ShedConnections => _accept.Shed;

    /// <summary>Makes <see cref="Run()"/> return soon. Thread-safe; may be called from a signal handler.</summary>
    public void Stop()
    {
        _stopping = true;
        _stop.Wake();
    }

    /// <summary>Serves on the calling thread until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Stops the loop when cancelled.</param>
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
    /// happens) and handles it: the body of <see cref="Run()"/>, for driving the server step by step.
    /// </summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns>The number of events handled.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        _poll.Wait(_events, timeout);
        _now = Environment.TickCount64;
        _responses.SetDate(DateTimeOffset.UtcNow);
        foreach (Event ev in _events)
        {
            switch (ev.Token)
            {
                case ListenerToken:
                case AcceptRetryToken:
                    AcceptAll();
                    break;
                case TimeoutsToken:
                    CloseExpired();
                    break;
                case StopToken:
                    break;
                default:
                    if (_connections.TryGet(ev.Token, out Connection? connection))
                    {
                        Serve(ev.Token, connection, ev);
                    }

                    break; // else: a late event for a connection closed earlier in this batch
            }
        }

        return _events.Count;
    }

    /// <summary>Closes every connection, the listener and the Poll.</summary>
    public void Dispose()
    {
        foreach (KeyValuePair<Token, Connection> entry in _connections)
        {
            entry.Value.Stream?.Dispose();
        }

        _accept.Dispose();
        _idle.Dispose();
        _stop.Dispose();
        _poll.Dispose();
    }

    private void AcceptAll()
    {
        while (_accept.TryAccept(out TcpStream? stream))
        {
            Connection connection = _pool.Count > 0 ? _pool.Pop() : new Connection(_options);
            connection.Open(stream);
            Token token = _connections.Add(connection);
            try
            {
                stream.NoDelay = true;
                _poll.Registry.Register(stream, token, Interest.Readable);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                _connections.Remove(token);
                Recycle(connection); // e.g. the kernel is out of memory for epoll entries: shed this client
                continue;
            }

            connection.Idle = _idle.Start(token);
            connection.LastActive = _now;
        }
    }

    private void CloseExpired()
    {
        int count;
        do
        {
            count = _idle.TakeExpired(_expired);
            for (int i = 0; i < count; i++)
            {
                Token token = _expired[i];
                if (!_connections.TryGet(token, out Connection? connection))
                {
                    continue;
                }

                // Activity only stamps the connection (no timer work per request); the deadline it set is checked
                // here, when the one it replaced comes due (Netty's IdleStateHandler does the same).
                long idleFor = _now - connection.LastActive;
                if (connection.State == ConnectionState.Open && idleFor < _idleMilliseconds)
                {
                    connection.Idle = _idle.Start(token, TimeSpan.FromMilliseconds(_idleMilliseconds - idleFor));
                    continue;
                }

                _connections.Remove(token);
                IdleClosed++;
                Recycle(connection);
            }
        }
        while (count == _expired.Length);
    }

    private void Serve(Token token, Connection connection, Event ev)
    {
        try
        {
            bool wasAbove = connection.Output.IsAboveHighWaterMark;
            if (ev.IsWritable && !connection.Output.IsEmpty)
            {
                int before = connection.Output.Length;
                connection.Output.Flush(connection.Stream!);
                if (connection.Output.Length < before && connection.State == ConnectionState.Open)
                {
                    connection.LastActive = _now; // a slow reader that reads is not idle
                }
            }

            if (connection.State == ConnectionState.Lingering)
            {
                Discard(connection);
            }
            else if (!connection.Output.IsAboveHighWaterMark && (ev.IsReadable || ev.IsReadClosed || ev.IsError || wasAbove))
            {
                // Readable, or reading had paused above the high-water mark and may resume: with edge triggering
                // no new event would come for what arrived meanwhile.
                Pump(connection, ev.IsReadClosed);
            }

            if (connection.State == ConnectionState.Closing && connection.Output.IsEmpty)
            {
                BeginLinger(token, connection);
            }

            if (connection.Output.UpdateInterest(_poll.Registry, connection.Stream!, token,
                    reading: !connection.PeerDone && connection.State != ConnectionState.Closing) == InterestUpdate.Close)
            {
                Close(token, connection); // every answer is out and the client is done
            }
        }
        catch (SocketException)
        {
            Close(token, connection); // reset by the peer, or similar: nobody left to answer
        }
    }

    /// <summary>Reads and answers until the socket is drained, the client is done, or the output is above its mark.</summary>
    private void Pump(Connection connection, bool readClosed)
    {
        TcpStream stream = connection.Stream!;
        bool drains = _shortReadDrains && !readClosed;
        while (true)
        {
            int carried = connection.CarryLength;
            if (carried > 0)
            {
                connection.Carry.AsSpan(0, carried).CopyTo(_buffer);
            }

            Span<byte> room = _buffer.AsSpan(carried, _options.ReadBufferSize);
            if (!stream.TryRead(room, out int read))
            {
                return;
            }

            if (read == 0)
            {
                connection.PeerDone = true;
                return;
            }

            connection.CarryLength = 0;
            // A short read drained the socket: epoll reports every later arrival as a new edge. Not so for an end of
            // stream that came with this data (already reported, as read-closed): read on until it shows.
            if (!Answer(connection, _buffer.AsSpan(0, carried + read)) || (read < room.Length && drains))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Parses what arrived and answers it: the answers of one read are gathered in one loop-wide buffer and written
    /// with one call (straight to the kernel when nothing waits; what it does not take is queued). False when
    /// reading should stop.
    /// </summary>
    private bool Answer(Connection connection, ReadOnlySpan<byte> input)
    {
        HttpRequestParser parser = connection.Parser;
        OutputQueue output = connection.Output;
        long requests = Requests;
        while (true)
        {
            ParseStatus status = parser.Parse(input, out int consumed);
            input = input[consumed..];
            if (parser.TakeContinueRequest())
            {
                Gather(connection, HttpResponses.Continue); // the client waits for it before it sends the body
            }

            if (status == ParseStatus.Request)
            {
                HttpRequest request = parser.Request;
                Gather(connection, _responses.For(request));
                Requests++;
                if (request.KeepAlive)
                {
                    continue;
                }

                connection.State = ConnectionState.Closing; // Connection: close (or HTTP/1.0): ignore what follows
                break;
            }

            if (status == ParseStatus.Error)
            {
                Gather(connection, _responses.ForError(parser.ErrorStatus));
                ProtocolErrors++;
                connection.State = ConnectionState.Closing;
                break;
            }

            if (!input.IsEmpty)
            {
                input.CopyTo(connection.RentCarry(_carryRoom));
                connection.CarryLength = input.Length;
            }

            break;
        }

        if (Requests != requests)
        {
            connection.LastActive = _now; // the idle deadline restarts when a request completes
        }

        SendGathered(connection);
        PeakQueuedBytes = Math.Max(PeakQueuedBytes, output.Length);
        return connection.State == ConnectionState.Open && !output.IsAboveHighWaterMark;
    }

    /// <summary>Adds an answer to the ones gathered for this read (sending those first when the buffer is full).</summary>
    private void Gather(Connection connection, ReadOnlySpan<byte> answer)
    {
        if (_answers.Length - _answersLength < answer.Length)
        {
            SendGathered(connection);
            if (answer.Length > _answers.Length)
            {
                connection.Output.Enqueue(answer);
                return;
            }
        }

        answer.CopyTo(_answers.AsSpan(_answersLength));
        _answersLength += answer.Length;
    }

    /// <summary>Writes the gathered answers after whatever waits, then tries to flush (one send when nothing waited).</summary>
    private void SendGathered(Connection connection)
    {
        OutputQueue output = connection.Output;
        ReadOnlySpan<byte> gathered = _answers.AsSpan(0, _answersLength);
        _answersLength = 0;
        if (output.IsEmpty)
        {
            output.Write(connection.Stream!, gathered);   // straight to the kernel; what it does not take is queued
        }
        else
        {
            output.Enqueue(gathered);
            output.Flush(connection.Stream!);
        }
    }

    /// <summary>Everything is sent: say so with a FIN and wait (briefly) for the client to close.</summary>
    private void BeginLinger(Token token, Connection connection)
    {
        connection.State = ConnectionState.Lingering;
        connection.Stream!.Shutdown(SocketShutdown.Send);
        _idle.Restart(ref connection.Idle, token, _options.LingerTimeout);
        Discard(connection);
    }

    private void Discard(Connection connection)
    {
        TcpStream stream = connection.Stream!;
        while (stream.TryRead(_buffer, out int read))
        {
            if (read == 0)
            {
                connection.PeerDone = true;
                return;
            }
        }
    }

    private void Close(Token token, Connection connection)
    {
        _connections.Remove(token);
        _idle.Cancel(connection.Idle);
        Recycle(connection);
    }

    private void Recycle(Connection connection)
    {
        connection.Release();
        _accept.ConnectionClosed(); // a descriptor is free: a loop paused by exhaustion resumes at once
        if (_pool.Count < MaxPooledConnections)
        {
            _pool.Push(connection);
        }
    }

    private enum ConnectionState : byte
    {
        /// <summary>Reading and answering requests.</summary>
        Open,

        /// <summary>The last response is queued (an error, or a request that closes): send it, read nothing more.</summary>
        Closing,

        /// <summary>Sent everything and a FIN; discarding input until the client closes or the linger time ends.</summary>
        Lingering,
    }

    /// <summary>One client's state; reused for later clients once it leaves.</summary>
    private sealed class Connection(HttpServerOptions options)
    {
        public TimerKey Idle;

        public TcpStream? Stream { get; private set; }

        public HttpRequestParser Parser { get; } = new(options.MaxHeaderBytes, options.MaxBodyBytes);

        public OutputQueue Output { get; } = new(options.HighWaterMark);

        public byte[] Carry { get; private set; } = [];

        public int CarryLength { get; set; }

        public ConnectionState State { get; set; }

        public bool PeerDone { get; set; }

        /// <summary>When (<see cref="Environment.TickCount64"/>) a request last completed or a slow reader took answers.</summary>
        public long LastActive { get; set; }

        public void Open(TcpStream stream)
        {
            Stream = stream;
            State = ConnectionState.Open;
            PeerDone = false;
            CarryLength = 0;
        }

        /// <summary>The carry-over buffer, allocated the first time a request of this connection is split.</summary>
        public byte[] RentCarry(int size)
        {
            if (Carry.Length < size)
            {
                Carry = new byte[size];
            }

            return Carry;
        }

        public void Release()
        {
            Stream?.Dispose();
            Stream = null;
            Output.Clear();
            Parser.Reset();
            CarryLength = 0;
        }
    }
}
