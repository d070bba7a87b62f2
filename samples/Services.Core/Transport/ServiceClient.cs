using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Polling.Net;

namespace Polling.Services;

/// <summary>
/// A <see cref="Service{TRequest,TResponse}"/> that stands for a remote one: the same type a server exposes, so
/// code that calls a service does not know (or care) whether it is in-process or across the network. Runs on a
/// <see cref="ServiceLoop"/> over pooled connections to one or more hosts, through a
/// <see cref="ClientCodec{TRequest,TResponse}"/>.
/// </summary>
/// <remarks>
/// <para><b>Load balancing.</b> Each request goes to the host with the fewest outstanding requests ("least
/// loaded, and so implicitly lowest latency"), ties taken in turn, and within it to a connection with room
/// (<see cref="ClientOptions.MaxOutstandingPerConnection"/>). Each host has a pool that starts with one connection
/// and grows to <see cref="ClientOptions.ConnectionsPerHost"/> while all are busy.</para>
/// <para><b>Failures.</b> A failed connection (refused, reset, closed, bad input) takes its host out of the
/// balancer: its connections are closed, their requests fail with <see cref="ConnectionFailedException"/>, and the
/// client reconnects in the background with exponential backoff (on the loop's timer wheel) — the host comes back
/// once a connection is established. While every host is down, requests fail at once with
/// <see cref="RejectedException"/>.</para>
/// <para><b>Queueing.</b> When every connection is busy, requests wait in a queue of at most
/// <see cref="ClientOptions.MaxQueued"/>; beyond it they fail at once with <see cref="RejectedException"/>.</para>
/// <para><b>Threads.</b> <see cref="InvokeAsync"/> may be called from any thread: off the loop thread the request
/// is posted into the loop through its channel. The returned task completes on the loop thread, and what awaits it
/// continues there (no thread hop): keep continuations short, as on any event loop.</para>
/// </remarks>
/// <example>
/// <code>
/// using var users = new ServiceClient&lt;string, string&gt;(loop, [host1, host2], new LineClientCodec());
/// string name = await users.InvokeAsync("42");      // the same call as on the in-process service
/// </code>
/// </example>
/// <typeparam name="TRequest">What is sent.</typeparam>
/// <typeparam name="TResponse">What comes back.</typeparam>
public sealed class ServiceClient<TRequest, TResponse> : Service<TRequest, TResponse>, IDisposable
{
    private readonly ServiceLoop _loop;
    private readonly ClientCodec<TRequest, TResponse> _codec;
    private readonly ClientOptions _options;
    private readonly Host[] _hosts;
    private readonly Queue<Call> _queue = new();
    private int _nextHost;
    private bool _disposed;

    /// <summary>Creates the client and starts connecting to every host. Call on the loop thread (or before it runs).</summary>
    /// <param name="loop">The loop the connections live on.</param>
    /// <param name="hosts">The remote servers (one or more).</param>
    /// <param name="codec">Encodes requests, parses responses.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentException"><paramref name="hosts"/> is empty.</exception>
    public ServiceClient(ServiceLoop loop, IEnumerable<IPEndPoint> hosts, ClientCodec<TRequest, TResponse> codec, ClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(codec);
        loop.ThrowIfNotLoopThread("create a client");
        _loop = loop;
        _codec = codec;
        _options = options ?? ClientOptions.Default;
        _options.Validate();
        _hosts = hosts.Select(endpoint => new Host(this, endpoint)).ToArray();
        if (_hosts.Length == 0)
        {
            throw new ArgumentException("A client needs at least one host to send requests to.", nameof(hosts));
        }

        foreach (Host host in _hosts)
        {
            host.Connect();
        }
    }

    /// <summary>A snapshot of every host: state, outstanding requests, connections, failures. Exact on the loop thread.</summary>
    public IReadOnlyList<HostStatus> Hosts => _hosts.Select(h => h.Status).ToArray();

    /// <summary>Requests waiting for a free connection.</summary>
    public int Queued => _queue.Count;

    /// <inheritdoc/>
    public override ValueTask<TResponse> InvokeAsync(TRequest request)
    {
        var call = new Call(this, request);
        if (_loop.IsLoopThread)
        {
            Dispatch(call);
        }
        else if (!_loop.Post(call))
        {
            call.Fail(new RejectedException("The client's ServiceLoop is disposed; the request was not sent."));
        }

        return call.Task;
    }

    /// <summary>Closes every connection; outstanding and queued requests fail with <see cref="RejectedException"/>. Call on the loop thread.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Host host in _hosts)
        {
            host.Shutdown(new RejectedException("The client was disposed before the answer came."));
        }

        FailQueue("The client was disposed; the request was not sent.");
    }

    private void Dispatch(Call call)
    {
        if (_disposed)
        {
            call.Fail(new RejectedException("The client is disposed; the request was not sent."));
            return;
        }

        if (PickConnection() is { } connection)
        {
            connection.Send(call);
            return;
        }

        if (_hosts.All(h => h.State == HostState.Down))
        {
            call.Fail(new RejectedException($"No host available: all {_hosts.Length} hosts are down (reconnecting in the background); the request was not sent."));
            return;
        }

        if (_queue.Count >= _options.MaxQueued)
        {
            call.Fail(new RejectedException($"Every connection is busy and {_queue.Count} requests already wait (ClientOptions.MaxQueued); the request was not sent."));
            return;
        }

        _queue.Enqueue(call);
        foreach (Host host in _hosts)
        {
            host.GrowIfBusy();
        }
    }

    /// <summary>The least-loaded up host's connection with room, or null.</summary>
    private Connection? PickConnection()
    {
        Host? best = null;
        Connection? bestConnection = null;
        for (int i = 0; i < _hosts.Length; i++)
        {
            Host host = _hosts[(_nextHost + i) % _hosts.Length];
            if (host.State != HostState.Up || (best is not null && host.Outstanding >= best.Outstanding))
            {
                continue;
            }

            if (host.ConnectionWithRoom() is { } connection)
            {
                best = host;
                bestConnection = connection;
            }
        }

        if (best is not null)
        {
            _nextHost = (Array.IndexOf(_hosts, best) + 1) % _hosts.Length;
        }

        return bestConnection;
    }

    /// <summary>Sends queued requests while connections have room.</summary>
    private void DrainQueue()
    {
        while (_queue.Count > 0 && PickConnection() is { } connection)
        {
            connection.Send(_queue.Dequeue());
        }
    }

    private void FailQueue(string reason)
    {
        while (_queue.TryDequeue(out Call? call))
        {
            call.Fail(new RejectedException(reason));
        }
    }

    private void OnHostDown()
    {
        if (_hosts.All(h => h.State == HostState.Down))
        {
            FailQueue($"No host available: all {_hosts.Length} hosts failed (reconnecting in the background); the request was not sent.");
        }
        else
        {
            DrainQueue();
        }
    }

    /// <summary>One request on its way: the task its caller awaits (completed on the loop thread).</summary>
    private sealed class Call(ServiceClient<TRequest, TResponse> client, TRequest request) : IValueTaskSource<TResponse>, ILoopWork
    {
        private ManualResetValueTaskSourceCore<TResponse> _core;

        public TRequest Request { get; } = request;

        public ValueTask<TResponse> Task => new(this, _core.Version);

        public void Execute() => client.Dispatch(this);

        public void Succeed(TResponse response) => _core.SetResult(response);

        public void Fail(Exception error) => _core.SetException(error);

        public TResponse GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private sealed class Host(ServiceClient<TRequest, TResponse> client, IPEndPoint endpoint) : ITimerTask
    {
        private readonly List<Connection> _connections = [];
        private TimeSpan _backoff = client._options.ReconnectDelay;
        private TimerHandle _reconnect;
        private long _requests;
        private long _failures;

        public IPEndPoint EndPoint { get; } = endpoint;

        public HostState State { get; private set; } = HostState.Connecting;

        public int Outstanding { get; set; }

        public HostStatus Status => new(EndPoint, State, Outstanding, _connections.Count, _requests, _failures);

        public ServiceClient<TRequest, TResponse> Client => client;

        public void Connect()
        {
            try
            {
                _connections.Add(new Connection(this, TcpStream.Connect(EndPoint)));
            }
            catch (SocketException e)
            {
                Failed($"connect failed at once: {e.SocketErrorCode}");
            }
        }

        public Connection? ConnectionWithRoom()
        {
            Connection? best = null;
            foreach (Connection connection in _connections)
            {
                if (connection.IsConnected && connection.Inflight < client._options.MaxOutstandingPerConnection
                    && (best is null || connection.Inflight < best.Inflight))
                {
                    best = connection;
                }
            }

            return best;
        }

        public void GrowIfBusy()
        {
            if (State == HostState.Up && _connections.Count < client._options.ConnectionsPerHost
                && _connections.TrueForAll(c => c.IsConnected && c.Inflight >= client._options.MaxOutstandingPerConnection))
            {
                try
                {
                    _connections.Add(new Connection(this, TcpStream.Connect(EndPoint)));
                }
                catch (SocketException)
                {
                    // No descriptor (or port) for one more: the host is as up as before; its connections take the load.
                }
            }
        }

        public void CountRequest() => _requests++;

        public void Connected()
        {
            State = HostState.Up;
            _backoff = client._options.ReconnectDelay;
            client.DrainQueue();
        }

        /// <summary>Takes the host out of the balancer, fails what it had in flight, and schedules a reconnection.</summary>
        public void Failed(string reason)
        {
            if (State == HostState.Down || client._disposed)
            {
                return;
            }

            State = HostState.Down;
            _failures++;
            Shutdown(new ConnectionFailedException(EndPoint, reason));
            _reconnect = client._loop.Schedule(_backoff, this);
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, client._options.MaxReconnectDelay.Ticks));
            client.OnHostDown();
        }

        public void Shutdown(Exception error)
        {
            if (client._disposed)
            {
                client._loop.Cancel(_reconnect);
            }

            Connection[] connections = [.. _connections];
            _connections.Clear();
            foreach (Connection connection in connections)
            {
                connection.Close(error);
            }
        }

        public void Remove(Connection connection) => _connections.Remove(connection);

        /// <summary>The reconnection timer: try again.</summary>
        public void Expire()
        {
            if (client._disposed)
            {
                return;
            }

            State = HostState.Connecting;
            Connect();
        }
    }

    private sealed class Connection : ILoopHandler
    {
        private const int ReadChunk = 16 * 1024;

        private readonly Host _host;
        private readonly ServiceLoop _loop;
        private readonly TcpStream _stream;
        private readonly ByteBuffer _input = new(ReadChunk);
        private readonly ByteBuffer _output = new(4096);
        private readonly Queue<Call> _inflight = new();
        private readonly List<(Call Call, TResponse Response)> _answered = [];
        private bool _writableRegistered = true;
        private bool _closed;

        public Connection(Host host, TcpStream stream)
        {
            _host = host;
            _loop = host.Client._loop;
            _stream = stream;
            Token = _loop.Add(this);
            _loop.Registry.Register(stream, Token, Interest.Readable | Interest.Writable); // Writable = connected
        }

        public Token Token { get; }

        public bool IsConnected { get; private set; }

        public int Inflight => _inflight.Count;

        public void Send(Call call)
        {
            _inflight.Enqueue(call);
            _host.Outstanding++;
            _host.CountRequest();
            _host.Client._codec.Encode(call.Request, _output);
            try
            {
                Flush();
                UpdateInterest();
            }
            catch (SocketException e)
            {
                _host.Failed($"write failed: {e.SocketErrorCode}");
            }
        }

        public void Handle(in Event ev)
        {
            if (_closed)
            {
                return;
            }

            try
            {
                if (!IsConnected)
                {
                    if (!ev.IsWritable && !ev.IsError && !ev.IsWriteClosed)
                    {
                        return;
                    }

                    SocketError error = _stream.TakeError();
                    if (error != SocketError.Success || ev.IsError)
                    {
                        _host.Failed($"connect failed: {error}");
                        return;
                    }

                    IsConnected = true;
                    _stream.NoDelay = true;
                    _host.Connected();
                }

                if (ev.IsWritable)
                {
                    Flush();
                }

                if (ev.IsReadable || ev.IsReadClosed || ev.IsError)
                {
                    Read();
                }

                if (!_closed)
                {
                    UpdateInterest();
                }
            }
            catch (SocketException e)
            {
                _host.Failed($"{e.SocketErrorCode}");
            }
            catch (ProtocolException e)
            {
                _host.Failed($"bad response: {e.Message}");
            }

            CompleteAnswered();
        }

        public void Close(Exception error)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _loop.Remove(Token);
            _stream.Dispose();
            _host.Remove(this);
            while (_inflight.TryDequeue(out Call? call))
            {
                _host.Outstanding--;
                call.Fail(error);
            }
        }

        private void Read()
        {
            while (!_closed)
            {
                if (!_stream.TryRead(_input.GetSpan(ReadChunk), out int read))
                {
                    return;
                }

                if (read == 0)
                {
                    _host.Failed(_inflight.Count > 0 ? "the server closed the connection with requests outstanding" : "the server closed the connection");
                    return;
                }

                _input.Advance(read);
                while (_input.Length > 0 && _host.Client._codec.TryDecode(_input.Span, out TResponse? response, out int consumed))
                {
                    _input.Consume(consumed);
                    if (!_inflight.TryDequeue(out Call? call))
                    {
                        throw new ProtocolException(0, "a response came for no request");
                    }

                    _host.Outstanding--;
                    _answered.Add((call, response));
                }
            }
        }

        /// <summary>Completes the answered calls last, when this connection's state is settled: their continuations run here, on the loop, and may send again.</summary>
        private void CompleteAnswered()
        {
            if (_answered.Count == 0)
            {
                return;
            }

            _host.Client.DrainQueue();
            foreach ((Call call, TResponse response) in _answered)
            {
                call.Succeed(response);
            }

            _answered.Clear();
        }

        private void Flush()
        {
            while (IsConnected && _output.Length > 0 && _stream.TryWrite(_output.Span, out int written))
            {
                _output.Consume(written);
            }
        }

        private void UpdateInterest()
        {
            bool wantWritable = !IsConnected || _output.Length > 0;
            if (!_closed && wantWritable != _writableRegistered)
            {
                _loop.Registry.Reregister(_stream, Token, wantWritable ? Interest.Readable | Interest.Writable : Interest.Readable);
                _writableRegistered = wantWritable;
            }
        }
    }
}
