using System.Net;
using System.Net.Sockets;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Services;

/// <summary>
/// Exposes a <see cref="Service{TRequest,TResponse}"/> over TCP on a <see cref="ServiceLoop"/>, through a
/// <see cref="ServerCodec{TRequest,TResponse}"/>: the loop reads, the codec parses, the service answers, the codec
/// encodes, the loop writes. The loop thread is the only one that touches the sockets.
/// </summary>
/// <remarks>
/// <para><b>Synchronous answers.</b> When the service's <see cref="ValueTask{TResult}"/> is complete on return (and
/// no earlier request of the connection is still waiting), the answer is encoded right there, in the same turn of
/// the loop: no allocation, no thread hop, no queue.</para>
/// <para><b>Later answers.</b> Otherwise the server watches the task; when it completes — on whatever thread — the
/// result is posted back into the loop through a <see cref="ChannelSource{T}"/> and written from there.</para>
/// <para><b>Pipelining.</b> Requests of one connection are answered in the order they came, whatever order their
/// tasks complete in. A connection with <see cref="ServerOptions.MaxPipelined"/> answers pending, or
/// <see cref="ServerOptions.MaxBufferedOutput"/> bytes unsent, is not read until that drains (back-pressure on
/// the client, through TCP).</para>
/// <para><b>Bad input</b> is answered with the codec's protocol error and that connection is closed once it is
/// sent; the server goes on.</para>
/// </remarks>
/// <example>
/// <code>
/// using var loop = new ServiceLoop();
/// Service&lt;HttpRequest, HttpResponse&gt; app = Service.From((HttpRequest r) =&gt; new ValueTask&lt;HttpResponse&gt;(HttpResponse.Pong));
/// using var server = new ServiceServer&lt;HttpRequest, HttpResponse&gt;(loop, new IPEndPoint(IPAddress.Loopback, 8080), new HttpServerCodec(), app);
/// loop.Run();
/// </code>
/// </example>
/// <typeparam name="TRequest">What the codec parses.</typeparam>
/// <typeparam name="TResponse">What the service answers.</typeparam>
public sealed class ServiceServer<TRequest, TResponse> : IDisposable
{
    private readonly ServiceLoop _loop;
    private readonly ServerCodec<TRequest, TResponse> _codec;
    private readonly Service<TRequest, TResponse> _service;
    private readonly ServerOptions _options;
    private readonly AcceptLoop _accept;
    private readonly Token _listenerToken;
    private readonly Token _acceptRetryToken;
    private readonly Token _answersToken;
    private readonly ChannelSource<PendingAnswer> _answers = ChannelSource.CreateUnbounded<PendingAnswer>();
    private readonly Stack<PendingAnswer> _answerPool = new();
    private readonly HashSet<Connection> _connections = [];
    private bool _shuttingDown;
    private bool _disposed;

    /// <summary>Binds <paramref name="endpoint"/> and starts serving as soon as <paramref name="loop"/> runs. Call on the loop thread (or before it runs).</summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="endpoint">Where to listen (port 0 picks a free port).</param>
    /// <param name="codec">Parses requests, encodes responses.</param>
    /// <param name="service">What answers.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public ServiceServer(ServiceLoop loop, IPEndPoint endpoint, ServerCodec<TRequest, TResponse> codec, Service<TRequest, TResponse> service, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(service);
        loop.ThrowIfNotLoopThread("start a server");
        _loop = loop;
        _codec = codec;
        _service = service;
        _options = options ?? ServerOptions.Default;
        TcpListener listener = TcpListener.Bind(endpoint, new TcpListenerOptions { Backlog = _options.Backlog });
        LocalEndPoint = listener.LocalEndPoint;
        var listenerEvents = new ListenerEvents(this);
        _listenerToken = loop.Add(listenerEvents);
        _acceptRetryToken = loop.Add(listenerEvents);
        _answersToken = loop.Add(new AnswerEvents(this));

        // Polling.Net's AcceptLoop: accepts until would-block and survives descriptor exhaustion (sheds the
        // backlog with a reserve descriptor, or pauses and retries on its timer) without throwing or allocating.
        _accept = new AcceptLoop(loop.Registry, listener, _listenerToken, _acceptRetryToken,
            new AcceptLoopOptions { DescriptorHeadroom = _options.DescriptorHeadroom });
        loop.Registry.Register(_answers, _answersToken, Interest.Readable);
    }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted so far.</summary>
    public long AcceptedConnections { get; private set; }

    /// <summary>Connections open now.</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>Requests answered in the turn they arrived in (their task was complete on return).</summary>
    public long AnsweredAtOnce { get; private set; }

    /// <summary>Requests answered later, after their result was posted back into the loop (or queued behind one that was).</summary>
    public long AnsweredLater { get; private set; }

    /// <summary>Connections dropped at once because descriptors ran out or the cap of <see cref="ServerOptions.DescriptorHeadroom"/> was reached (see <see cref="AcceptLoop"/>).</summary>
    public long ShedConnections => _accept.Shed;

    /// <summary>Connections closed because of bad input.</summary>
    public long ProtocolErrors { get; private set; }

    /// <summary>
    /// The graceful end, on the loop thread (after <see cref="ServiceLoop.Run()"/> returned): stops accepting; every
    /// connection reads the requests its client has sent so far, answers them (in order, however long the service
    /// takes, within <paramref name="grace"/>), then ends in order: the client gets an end of stream, what it still
    /// sends is read and dropped, so the close is never a reset. Runs the loop until every connection is closed or
    /// <paramref name="grace"/> is over; call <see cref="Dispose"/> next, which closes what is left.
    /// </summary>
    /// <param name="grace">How long connections get to finish.</param>
    /// <returns><see langword="true"/> if every connection finished within <paramref name="grace"/>.</returns>
    /// <exception cref="InvalidOperationException">Not called on the loop thread.</exception>
    /// <example>
    /// <code>
    /// loop.Run();                                // until loop.Stop(), e.g. from a SIGTERM handler
    /// server.Shutdown(TimeSpan.FromSeconds(5));  // answers out, connections closed in order
    /// server.Dispose();
    /// </code>
    /// </example>
    public bool Shutdown(TimeSpan grace)
    {
        _loop.ThrowIfNotLoopThread("shut a server down");
        if (!_shuttingDown && !_disposed)
        {
            _shuttingDown = true;
            _accept.Stop();
            foreach (Connection connection in _connections.ToArray())
            {
                connection.BeginShutdown();
            }
        }

        long deadline = Environment.TickCount64 + (long)grace.TotalMilliseconds;
        for (long left = (long)grace.TotalMilliseconds; _connections.Count > 0 && left > 0; left = deadline - Environment.TickCount64)
        {
            _loop.RunOnce(TimeSpan.FromMilliseconds(left));
        }

        return _connections.Count == 0;
    }

    /// <summary>Closes the listener and every connection. Call on the loop thread. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Connection connection in _connections.ToArray())
        {
            connection.Close();
        }

        _loop.Remove(_listenerToken);
        _loop.Remove(_acceptRetryToken);
        _loop.Remove(_answersToken);
        _accept.Dispose();
        _answers.Dispose();
    }

    private void AcceptAll()
    {
        while (!_disposed && _accept.TryAccept(out TcpStream? stream))
        {
            try
            {
                stream.NoDelay = true;
            }
            catch (SocketException)
            {
                stream.Dispose(); // reset while in the backlog
                continue;
            }

            var connection = new Connection(this, stream);
            _connections.Add(connection);
            AcceptedConnections++;
            _loop.Registry.Register(stream, connection.Token, Interest.Readable);
        }
    }

    private void DrainAnswers()
    {
        while (!_disposed && _answers.TryRead(out PendingAnswer? answer))
        {
            answer.IsDone = true;
            Connection connection = answer.Connection!;
            if (connection.IsClosed)
            {
                Recycle(answer);
            }
            else
            {
                connection.OnAnswerReady();
            }
        }
    }

    private PendingAnswer RentAnswer() => _answerPool.Count > 0 ? _answerPool.Pop() : new PendingAnswer(this);

    private void Recycle(PendingAnswer answer)
    {
        _codec.Release(answer.Request!);
        answer.Clear();
        _answerPool.Push(answer);
    }

    private sealed class ListenerEvents(ServiceServer<TRequest, TResponse> server) : ILoopHandler
    {
        public void Handle(in Event ev) => server.AcceptAll();
    }

    private sealed class AnswerEvents(ServiceServer<TRequest, TResponse> server) : ILoopHandler
    {
        public void Handle(in Event ev) => server.DrainAnswers();
    }

    /// <summary>A request whose answer was not ready when the service returned: waits in its connection's queue.</summary>
    private sealed class PendingAnswer
    {
        private readonly ServiceServer<TRequest, TResponse> _server;
        private readonly Action _onCompleted;
        private ValueTask<TResponse> _task;

        public PendingAnswer(ServiceServer<TRequest, TResponse> server)
        {
            _server = server;
            _onCompleted = OnCompleted;
        }

        public Connection? Connection { get; private set; }

        public TRequest? Request { get; private set; }

        public TResponse? Response { get; private set; }

        public Exception? Error { get; private set; }

        public bool IsDone { get; set; }

        public void Start(Connection connection, TRequest request)
        {
            Connection = connection;
            Request = request;
        }

        /// <summary>The task was complete on return but must wait behind earlier answers.</summary>
        public void Complete(ValueTask<TResponse> task)
        {
            try
            {
                Response = task.Result;
            }
            catch (Exception error)
            {
                Error = error;
            }

            IsDone = true;
        }

        /// <summary>Watches the task; its result comes back into the loop through the server's channel source.</summary>
        public void Watch(ValueTask<TResponse> task)
        {
            _task = task;
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onCompleted);
        }

        public void Clear()
        {
            Connection = null;
            Request = default;
            Response = default;
            Error = null;
            IsDone = false;
        }

        private void OnCompleted()
        {
            // Any thread: store the outcome, then hand this object to the loop (the channel publishes the writes).
            try
            {
                Response = _task.ConfigureAwait(false).GetAwaiter().GetResult();
            }
            catch (Exception error)
            {
                Error = error;
            }

            _task = default;
            _server._answers.Writer.TryWrite(this);
        }
    }

    private sealed class Connection : ILoopHandler
    {
        private const int ReadChunk = 16 * 1024;

        private readonly ServiceServer<TRequest, TResponse> _server;
        private readonly TcpStream _stream;
        private readonly ByteBuffer _input = new(ReadChunk);
        private readonly ByteBuffer _output = new(4096);
        private readonly Queue<PendingAnswer> _pending = new();
        private ProtocolException? _protocolError;
        private bool _peerDone;
        private bool _closing;
        private bool _sentEnd;
        private bool _writableRegistered;

        public Connection(ServiceServer<TRequest, TResponse> server, TcpStream stream)
        {
            _server = server;
            _stream = stream;
            Token = server._loop.Add(this);
        }

        public Token Token { get; }

        public bool IsClosed { get; private set; }

        private bool ReadingPaused =>
            _pending.Count >= _server._options.MaxPipelined || _output.Length >= _server._options.MaxBufferedOutput;

        public void Handle(in Event ev)
        {
            if (IsClosed)
            {
                return;
            }

            try
            {
                if (_sentEnd)
                {
                    Linger();
                    return;
                }

                if (ev.IsWritable)
                {
                    Flush();
                }

                if (ev.IsReadable || ev.IsReadClosed || ev.IsError)
                {
                    Read();
                }

                Settle();
            }
            catch (SocketException)
            {
                Close();
            }
        }

        /// <summary>Server shutdown: answers what the client has sent so far, then ends the connection in order.</summary>
        public void BeginShutdown()
        {
            try
            {
                Read();
                _closing = true;
                Settle();
            }
            catch (SocketException)
            {
                Close();
            }
        }

        public void OnAnswerReady()
        {
            try
            {
                Settle();
            }
            catch (SocketException)
            {
                Close();
            }
        }

        public void Close()
        {
            if (IsClosed)
            {
                return;
            }

            IsClosed = true;
            _server._accept.ConnectionClosed(); // counts against the cap; an accept loop paused for want of descriptors resumes
            _server._connections.Remove(this);
            _server._loop.Remove(Token);
            _stream.Dispose();
            foreach (PendingAnswer answer in _pending)
            {
                if (answer.IsDone)
                {
                    _server.Recycle(answer); // not yet done: recycled when its result arrives
                }
            }

            _pending.Clear();
        }

        private void Read()
        {
            while (!_peerDone && !_closing && !ReadingPaused)
            {
                Span<byte> room = _input.GetSpan(ReadChunk);
                if (!_stream.TryRead(room, out int read))
                {
                    return;
                }

                if (read == 0)
                {
                    _peerDone = true;
                    return;
                }

                _input.Advance(read);
                Parse();
            }
        }

        private void Parse()
        {
            while (!_closing && _input.Length > 0 && _pending.Count < _server._options.MaxPipelined)
            {
                TRequest? request;
                int consumed;
                try
                {
                    if (!_server._codec.TryDecode(_input.Span, out request, out consumed))
                    {
                        return;
                    }
                }
                catch (ProtocolException error)
                {
                    _protocolError = error;
                    _closing = true;
                    _server.ProtocolErrors++;
                    return;
                }

                _input.Consume(consumed);
                Dispatch(request);
            }
        }

        private void Dispatch(TRequest request)
        {
            ValueTask<TResponse> task = Service.Call(_server._service, request);
            if (_pending.Count == 0 && task.IsCompleted)
            {
                _server.AnsweredAtOnce++;
                bool keepOpen;
                try
                {
                    keepOpen = _server._codec.Encode(request, task.Result, _output);
                }
                catch (Exception error) when (error is not SocketException)
                {
                    keepOpen = _server._codec.EncodeFailure(request, error, _output);
                }

                _server._codec.Release(request);
                _closing |= !keepOpen;
                return;
            }

            PendingAnswer answer = _server.RentAnswer();
            answer.Start(this, request);
            _pending.Enqueue(answer);
            if (task.IsCompleted)
            {
                answer.Complete(task);
            }
            else
            {
                answer.Watch(task);
            }
        }

        /// <summary>Encodes answers that are ready, in order; writes; resumes reading; closes when done.</summary>
        private void Settle()
        {
            bool wasPaused = ReadingPaused;
            while (_pending.Count > 0 && _pending.Peek().IsDone)
            {
                PendingAnswer answer = _pending.Dequeue();
                _server.AnsweredLater++;
                bool keepOpen = answer.Error is null
                    ? _server._codec.Encode(answer.Request!, answer.Response!, _output)
                    : _server._codec.EncodeFailure(answer.Request!, answer.Error, _output);
                _server.Recycle(answer);
                if (!keepOpen)
                {
                    _closing = true;
                }
            }

            if (_protocolError is not null && _pending.Count == 0)
            {
                _server._codec.EncodeProtocolError(_protocolError, _output);
                _protocolError = null;
            }

            Flush();
            if (wasPaused && !ReadingPaused && !_closing)
            {
                // Reading stopped before the kernel said "would block": no edge will announce what is waiting.
                Parse();
                Read();
                Flush();
            }

            if ((_peerDone || _closing) && _pending.Count == 0 && _output.Length == 0 && _protocolError is null)
            {
                if (!_peerDone)
                {
                    _stream.Shutdown(SocketShutdown.Send);
                    if (_server._shuttingDown)
                    {
                        // Read (and drop) until the client closes too: closing with its bytes unread would reset.
                        _sentEnd = true;
                        if (_writableRegistered)
                        {
                            _server._loop.Registry.Reregister(_stream, Token, Interest.Readable);
                            _writableRegistered = false;
                        }

                        Linger();
                        return;
                    }
                }

                Close();
                return;
            }

            bool wantWritable = _output.Length > 0;
            if (wantWritable != _writableRegistered)
            {
                _server._loop.Registry.Reregister(_stream, Token, wantWritable ? Interest.Readable | Interest.Writable : Interest.Readable);
                _writableRegistered = wantWritable;
            }
        }

        private void Linger()
        {
            while (_stream.TryRead(_input.GetSpan(ReadChunk), out int read))
            {
                if (read == 0)
                {
                    _peerDone = true;
                    Close();
                    return;
                }
            }
        }

        private void Flush()
        {
            while (_output.Length > 0 && _stream.TryWrite(_output.Span, out int written))
            {
                _output.Consume(written);
            }
        }
    }
}
