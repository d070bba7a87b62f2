using System.Net;
using System.Net.Sockets;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Actors;

/// <summary>
/// Actors over sockets on one Polling loop: every accepted connection gets a <see cref="ConnectionActor{TMessage,TReply}"/>.
/// The loop is the runtime's receiving and sending thread: it reads, parses with the connection's
/// <see cref="ISocketCodec{TMessage,TReply}"/> and delivers the messages to the actor's mailbox; it encodes the
/// actor's replies and writes them. Actors run on the thread pool; only the loop touches sockets.
/// </summary>
/// <remarks>
/// <para><b>Back-pressure, both ways.</b> A connection whose actor's mailbox is full is not read until the actor has
/// taken a message (the message that did not fit waits in the loop). A connection whose peer does not read is
/// congested (<see cref="Connection{TReply}.IsCongested"/>): its actor pauses, its mailbox fills to the bound, its
/// senders are refused. Nothing grows without bound.</para>
/// <para><b>The loop stays visible.</b> <see cref="Run()"/> is <c>Poll.Wait</c> plus <see cref="Dispatch"/>; register
/// your own sources on <see cref="Poll"/> with tokens below <see cref="FirstServerToken"/> and write the loop yourself.</para>
/// </remarks>
/// <example>
/// <code>
/// ActorRef&lt;RoomMessage&gt; room = Actor.Spawn(new Room(), 4096);
/// using var server = new ActorServer&lt;ChatInput, string&gt;(
///     new IPEndPoint(IPAddress.Loopback, 7000), () =&gt; new ChatCodec(), connection =&gt; new ChatSession(room));
/// server.Run();
/// </code>
/// </example>
/// <typeparam name="TMessage">What connection actors receive.</typeparam>
/// <typeparam name="TReply">What they send back.</typeparam>
public sealed class ActorServer<TMessage, TReply> : IConnectionPort<TReply>, IDisposable
{
    /// <summary>Tokens from this value up belong to the server; register your own sources below it.</summary>
    public const ulong FirstServerToken = 1UL << 61;

    private const Token ListenerToken = (Token)FirstServerToken;
    private const Token RetryToken = (Token)(FirstServerToken + 1);
    private const Token CommandsToken = (Token)(FirstServerToken + 2);
    private const Token StopToken = (Token)(FirstServerToken + 3);

    private readonly Func<ISocketCodec<TMessage, TReply>> _codecs;
    private readonly Func<Connection<TReply>, ConnectionActor<TMessage, TReply>> _actors;
    private readonly ActorServerOptions _options;
    private readonly Events _events = new(1024);
    private readonly AcceptLoop _accept;
    private readonly ConnectionTable<Session> _sessions = new((Token)(FirstServerToken + 16));
    private readonly ChannelSource<Command> _commands = ChannelSource.CreateUnbounded<Command>();
    private readonly Waker _stop;
    private readonly byte[] _readBuffer;
    private readonly List<Session> _dirty = [];
    private readonly object _snapshotLock = new();
    private readonly List<Connection<TReply>> _open = [];
    private long _nextId;
    private volatile bool _stopping;
    private bool _disposed;

    /// <summary>Binds <paramref name="endpoint"/>; connections are accepted once the loop runs.</summary>
    /// <param name="endpoint">Where to listen (port 0 picks a free port).</param>
    /// <param name="codecs">Makes the codec of each new connection.</param>
    /// <param name="actors">Makes the actor of each new connection, given its connection handle.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public ActorServer(
        IPEndPoint endpoint,
        Func<ISocketCodec<TMessage, TReply>> codecs,
        Func<Connection<TReply>, ConnectionActor<TMessage, TReply>> actors,
        ActorServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(codecs);
        ArgumentNullException.ThrowIfNull(actors);
        _codecs = codecs;
        _actors = actors;
        _options = options ?? ActorServerOptions.Default;
        _readBuffer = new byte[_options.ReadBufferSize];
        Poll = new Poll();
        TcpListener listener = TcpListener.Bind(endpoint);
        LocalEndPoint = listener.LocalEndPoint;
        _accept = new AcceptLoop(Poll.Registry, listener, ListenerToken, RetryToken, new AcceptLoopOptions { DescriptorHeadroom = _options.DescriptorHeadroom });
        Poll.Registry.Register(_commands, CommandsToken, Interest.Readable);
        _stop = new Waker(Poll.Registry, StopToken);
    }

    /// <summary>The loop's Poll: wait on it yourself if you write the loop.</summary>
    public Poll Poll { get; }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted so far.</summary>
    public long AcceptedConnections => _accept.Accepted;

    /// <summary>Connections accepted and closed at once: descriptors had run out, or the cap of <see cref="ActorServerOptions.DescriptorHeadroom"/> was reached.</summary>
    public long ShedConnections => _accept.Shed;

    /// <summary>Delivery progress of every open connection. Any thread.</summary>
    public IReadOnlyList<ConnectionProgress> Connections
    {
        get
        {
            lock (_snapshotLock)
            {
                return _open.Select(c => c.Progress).ToArray();
            }
        }
    }

    /// <summary>Runs the loop on the calling thread until <see cref="Stop"/>.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            RunOnce();
        }
    }

    /// <summary>One turn: waits for events (up to <paramref name="timeout"/>; null = until there are some) and dispatches them.</summary>
    /// <param name="timeout">How long to wait at most.</param>
    public int RunOnce(TimeSpan? timeout = null)
    {
        int count = Poll.Wait(_events, timeout);
        foreach (Event ev in _events)
        {
            Dispatch(ev);
        }

        FlushDirty();
        return count;
    }

    /// <summary>Handles one event if it is the server's (token at or above <see cref="FirstServerToken"/>); false otherwise.</summary>
    /// <param name="ev">An event from <c>Poll.Wait</c>.</param>
    public bool Dispatch(in Event ev)
    {
        if ((ulong)ev.Token < FirstServerToken)
        {
            return false;
        }

        switch (ev.Token)
        {
            case ListenerToken or RetryToken:
                AcceptAll();
                break;
            case CommandsToken:
                while (_commands.TryRead(out Command command))
                {
                    Execute(command);
                }

                break;
            case StopToken:
                break;
            default:
                if (_sessions.TryGet(ev.Token, out Session? session))
                {
                    session.Handle(ev);
                }

                break;
        }

        return true;
    }

    /// <summary>Makes <see cref="Run()"/> return soon. Any thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _stop.Wake();
    }

    /// <summary>
    /// The graceful end, on the loop thread after <see cref="Run()"/> returned: stops accepting; reads what every
    /// client has sent so far and hands it to its actor, followed by the disconnect message
    /// (<see cref="DisconnectReason.ServerStopped"/>); writes every reply the actor sends until it stops; then ends
    /// the connection in order (the peer gets an end of stream, what it still sends is read and dropped, so the close
    /// is never a reset). Returns when every connection is closed or <paramref name="grace"/> is over; call
    /// <see cref="Dispose"/> next, which closes what is left.
    /// </summary>
    /// <param name="grace">How long connections get to finish.</param>
    /// <returns><see langword="true"/> if every connection finished within <paramref name="grace"/>.</returns>
    /// <example>
    /// <code>
    /// server.Run();                              // until Stop(), e.g. from a SIGTERM handler
    /// server.Shutdown(TimeSpan.FromSeconds(5));  // replies out, connections closed in order
    /// server.Dispose();
    /// </code>
    /// </example>
    public bool Shutdown(TimeSpan grace)
    {
        _accept.Stop();

        // A copy, as BeginShutdown may close (remove) a session; a plain loop, as shutdown runs when descriptors may be
        // exhausted, and nothing else in the loop loads System.Linq before (a lazy assembly load then fails).
        var sessions = new List<Session>(_sessions.Count);
        foreach (KeyValuePair<Token, Session> entry in _sessions)
        {
            sessions.Add(entry.Value);
        }

        foreach (Session session in sessions)
        {
            session.BeginShutdown();
        }

        FlushDirty();
        long deadline = Environment.TickCount64 + (long)grace.TotalMilliseconds;
        for (long left = (long)grace.TotalMilliseconds; _sessions.Count > 0 && left > 0; left = deadline - Environment.TickCount64)
        {
            RunOnce(TimeSpan.FromMilliseconds(left));
        }

        return _sessions.Count == 0;
    }

    /// <summary>Closes every connection (their actors get the disconnect message), the listener and the loop. Call after <see cref="Run()"/> returned (and <see cref="Shutdown"/>, for a graceful end).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (KeyValuePair<Token, Session> entry in _sessions)
        {
            entry.Value.CloseNow(DisconnectReason.ServerStopped);
        }

        _accept.Dispose();
        _commands.Dispose();
        _stop.Dispose();
        Poll.Dispose();
    }

    bool IConnectionPort<TReply>.Post(Connection<TReply> connection, LoopCommandKind kind, TReply? reply) =>
        _commands.Writer.TryWrite(new Command(connection, kind, reply));

    private void AcceptAll()
    {
        while (_accept.TryAccept(out TcpStream? stream))
        {
            IPEndPoint remote;
            try
            {
                stream.NoDelay = true;
                if (_options.SendBufferSize is { } size)
                {
                    stream.SendBufferSize = size;
                }

                remote = stream.RemoteEndPoint;
            }
            catch (SocketException)
            {
                stream.Dispose(); // gone already
                continue;
            }

            var connection = new Connection<TReply>(this, ++_nextId, remote, _options.HighWaterMark, _options.MaxRepliesWaiting);
            var session = new Session(this, stream, connection, _codecs());
            session.Token = _sessions.Add(session);
            ConnectionActor<TMessage, TReply> actor = _actors(connection);
            actor.Attach(connection);
            actor.ResumeHook = session.OnActorTook;
            session.Mailbox = Actor.Spawn(actor, _options.MailboxCapacity);
            session.Mailbox.Completion.ContinueWith(
                static (task, state) =>
                {
                    if (task.IsFaulted)
                    {
                        Console.Error.WriteLine($"actor of {state} failed: {task.Exception!.InnerException!.Message}");
                    }

                    ((Connection<TReply>)state!).Close(); // an actor that stopped has nobody to talk to
                },
                connection,
                TaskScheduler.Default);
            lock (_snapshotLock)
            {
                _open.Add(connection);
            }

            Poll.Registry.Register(stream, session.Token, Interest.Readable);
        }
    }

    private void Execute(Command command)
    {
        Session session = (Session)command.Connection.Session!;
        switch (command.Kind)
        {
            case LoopCommandKind.Send:
                session.Enqueue(command.Reply!);
                break;
            case LoopCommandKind.Close:
                session.CloseWhenFlushed();
                break;
            case LoopCommandKind.Resume:
                session.Resume();
                break;
        }
    }

    /// <summary>One write (and interest update) per connection per turn, however many replies it got.</summary>
    private void FlushDirty()
    {
        foreach (Session session in _dirty)
        {
            session.IsDirty = false;
            session.FlushAndSettle();
        }

        _dirty.Clear();
    }

    private readonly record struct Command(Connection<TReply> Connection, LoopCommandKind Kind, TReply? Reply);

    /// <summary>The loop's side of one connection.</summary>
    private sealed class Session
    {
        private readonly ActorServer<TMessage, TReply> _server;
        private readonly TcpStream _stream;
        private readonly ISocketCodec<TMessage, TReply> _codec;
        private readonly OutputQueue _output;
        private readonly byte[] _input;
        private int _inputStart;
        private int _inputEnd;
        private TMessage? _held;       // the message that did not fit in the mailbox
        private bool _holding;
        private int _wantResume;
        private bool _peerDone;
        private bool _closing;
        private bool _closed;
        private bool _disconnectQueued;
        private bool _heldIsDisconnect;
        private bool _shuttingDown;
        private bool _sentEnd;
        private DisconnectReason _closeReason;

        public Session(ActorServer<TMessage, TReply> server, TcpStream stream, Connection<TReply> connection, ISocketCodec<TMessage, TReply> codec)
        {
            _server = server;
            _stream = stream;
            Connection = connection;
            _codec = codec;
            _output = new OutputQueue(int.MaxValue);
            _input = new byte[server._options.ReadBufferSize];
            connection.Session = this;
        }

        public Connection<TReply> Connection { get; }

        public Token Token { get; set; }

        public ActorRef<TMessage> Mailbox { get; set; } = null!;

        public bool IsDirty { get; set; }

        public void Handle(in Event ev)
        {
            if (_closed)
            {
                return;
            }

            try
            {
                if (ev.IsReadable || ev.IsReadClosed || ev.IsError)
                {
                    if (_sentEnd)
                    {
                        Linger();
                        return;
                    }

                    Read();
                }

                MarkDirty(); // flush and settle at the end of the turn
            }
            catch (Exception error) when (error is SocketException or InvalidOperationException)
            {
                CloseNow(DisconnectReason.Error); // a reset, or a codec that cannot frame the input: this connection only
            }
        }

        public void Enqueue(TReply reply)
        {
            if (_closed)
            {
                Connection.Dropped();
                return;
            }

            int before = _output.Length;
            _codec.Encode(reply, _output);
            Connection.Encoded(_output.Length - before);
            MarkDirty();
        }

        /// <summary>Server shutdown: what the client sent so far goes to the actor, then the disconnect message; its replies follow.</summary>
        public void BeginShutdown()
        {
            if (_closed)
            {
                return;
            }

            try
            {
                Read();
            }
            catch (Exception error) when (error is SocketException or InvalidOperationException)
            {
                CloseNow(DisconnectReason.Error);
                return;
            }

            _shuttingDown = true; // reads no more
            QueueDisconnect(DisconnectReason.ServerStopped); // held behind a message that waits for room, if any
            MarkDirty();
        }

        public void CloseWhenFlushed()
        {
            _closing = true;
            MarkDirty();
        }

        /// <summary>Actor thread, after taking a message: if the loop waits for room, tell it.</summary>
        public void OnActorTook()
        {
            if (Interlocked.Exchange(ref _wantResume, 0) == 1)
            {
                ((IConnectionPort<TReply>)_server).Post(Connection, LoopCommandKind.Resume, default);
            }
        }

        /// <summary>The actor made room: hand over the held message, then read on (edge: nothing else would announce the data).</summary>
        public void Resume()
        {
            if (_holding)
            {
                if (!TryDeliver(_held!))
                {
                    return;
                }

                _holding = false;
                _held = default;
                if (_heldIsDisconnect)
                {
                    Mailbox.Complete(); // the actor stops after this last message
                    return;
                }
            }

            if (_closed || _shuttingDown)
            {
                QueueDisconnect(_closed ? _closeReason : DisconnectReason.ServerStopped);
                return;
            }

            Connection.SetReadPaused(false);
            try
            {
                Parse();
                Read();
                MarkDirty();
            }
            catch (Exception error) when (error is SocketException or InvalidOperationException)
            {
                CloseNow(DisconnectReason.Error);
            }
        }

        public void FlushAndSettle()
        {
            if (_closed || _sentEnd)
            {
                return;
            }

            try
            {
                int before = _output.Length;
                _output.Flush(_stream);
                Connection.Sent(before - _output.Length);

                if (_output.UpdateInterest(_server.Poll.Registry, _stream, Token, reading: !_peerDone && !_closing) == InterestUpdate.Close)
                {
                    if (_shuttingDown && !_peerDone)
                    {
                        EndInOrder();
                        return;
                    }

                    CloseNow(_closing ? DisconnectReason.Closed : DisconnectReason.PeerClosed); // all sent, nothing more to read
                }
            }
            catch (SocketException)
            {
                CloseNow(DisconnectReason.Error);
            }
        }

        /// <summary>Shutdown, all sent: end of stream to the peer, then read (and drop) until it closes too, so the close is no reset.</summary>
        private void EndInOrder()
        {
            if (_sentEnd)
            {
                return;
            }

            _sentEnd = true;
            _stream.Shutdown(SocketShutdown.Send);
            _server.Poll.Registry.Reregister(_stream, Token, Interest.Readable);
            Linger();
        }

        private void Linger()
        {
            while (_stream.TryRead(_input, out int read))
            {
                if (read == 0)
                {
                    _peerDone = true;
                    CloseNow(DisconnectReason.ServerStopped);
                    return;
                }
            }
        }

        public void CloseNow(DisconnectReason reason)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _server._accept.ConnectionClosed(); // counts against the cap; a loop paused for want of descriptors resumes
            _closeReason = reason;
            _server._sessions.Remove(Token);
            _output.Clear();
            _stream.Dispose();
            Connection.MarkClosed();
            lock (_server._snapshotLock)
            {
                _server._open.Remove(Connection);
            }

            QueueDisconnect(reason);
        }

        /// <summary>The codec's disconnect message goes last into the mailbox; held like any other if the mailbox is full.</summary>
        private void QueueDisconnect(DisconnectReason reason)
        {
            if (_disconnectQueued || _holding)
            {
                return; // a held message goes first; Resume comes back here
            }

            _disconnectQueued = true;
            TMessage disconnected = _codec.Disconnected(reason);
            if (TryDeliver(disconnected))
            {
                Mailbox.Complete();
            }
            else
            {
                _held = disconnected;
                _holding = true;
                _heldIsDisconnect = true;
            }
        }

        private void MarkDirty()
        {
            if (!IsDirty && !_closed)
            {
                IsDirty = true;
                _server._dirty.Add(this);
            }
        }

        private void Read()
        {
            while (!_peerDone && !_closing && !_holding && !_shuttingDown)
            {
                if (_inputEnd == _input.Length)
                {
                    if (_inputStart == 0)
                    {
                        // A codec must consume a full buffer (LineFramer skips overlong lines); one that does not is broken.
                        throw new InvalidOperationException($"The codec {_codec.GetType().Name} used none of a full {_input.Length}-byte buffer.");
                    }

                    _input.AsSpan(_inputStart, _inputEnd - _inputStart).CopyTo(_input);
                    _inputEnd -= _inputStart;
                    _inputStart = 0;
                }

                if (!_stream.TryRead(_input.AsSpan(_inputEnd), out int read))
                {
                    return;
                }

                if (read == 0)
                {
                    _peerDone = true;
                    return;
                }

                Connection.CountReceived(read);
                _inputEnd += read;
                Parse();
            }
        }

        private void Parse()
        {
            while (!_holding && _inputStart < _inputEnd)
            {
                bool decoded = _codec.TryDecode(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out TMessage? message, out int consumed);
                _inputStart += consumed;
                if (decoded)
                {
                    Connection.CountMessage();
                    if (!TryDeliver(message!))
                    {
                        _held = message;
                        _holding = true;
                        Connection.SetReadPaused(true);
                    }
                }
                else if (consumed == 0)
                {
                    break;
                }
            }

            if (_inputStart == _inputEnd)
            {
                _inputStart = _inputEnd = 0;
            }
        }

        /// <summary>
        /// Into the mailbox, or false if it is full. The flag goes up before the attempt, so an actor that takes a
        /// message after a failed attempt always sees it and asks the loop to try again (no lost wake-up).
        /// </summary>
        private bool TryDeliver(TMessage message)
        {
            Interlocked.Exchange(ref _wantResume, 1);
            if (Mailbox.TrySend(message))
            {
                Interlocked.Exchange(ref _wantResume, 0);
                return true;
            }

            return Mailbox.Completion.IsCompleted; // a stopped actor takes nothing more: drop, do not hold
        }
    }
}
