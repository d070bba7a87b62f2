using System.Net;
using System.Net.Sockets;
using MiniRedis.Commands;
using MiniRedis.Protocol;
using MiniRedis.Storage;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace MiniRedis.Server;

/// <summary>
/// A RESP2 server on one <see cref="Poll"/>: a hand-written <c>switch (ev.Token)</c> loop that owns the sockets,
/// with a <see cref="ClientSession"/> (parser state) per connection between the bytes and the
/// <see cref="CommandExecutor"/>. Built from Polling.Net's server blocks: <see cref="AcceptLoop"/> (accept until
/// would-block, descriptor exhaustion survived), <see cref="ConnectionTable{T}"/> (late events of closed
/// connections never reach a new one), <see cref="OutputQueue"/> (replies the kernel did not take, a high-water
/// mark that pauses the client, Writable interest only while replies wait). Expired keys are swept on a
/// <see cref="TimerWheel"/>.
/// </summary>
/// <remarks>
/// Per readable event: one read into the connection's buffer (again only if the read filled it), every whole
/// command in it parsed and run, all their replies encoded into one buffer and written with one call — so a
/// pipeline of 16 commands costs one read and one write. Nothing is allocated per request for PING, GET, SET of
/// an existing key, INCR and the like once buffers are warm.
/// </remarks>
/// <example>
/// <code>
/// using var server = new MiniRedisServer(new IPEndPoint(IPAddress.Loopback, 6380));
/// var thread = new Thread(() => server.Run());
/// thread.Start();
/// // redis-cli -p 6380 SET greeting hello
/// server.Stop();
/// thread.Join();
/// </code>
/// </example>
public sealed class MiniRedisServer : IDisposable
{
    private const Token ListenerToken = (Token)0;
    private const Token AcceptRetryToken = (Token)1;
    private const Token StopToken = (Token)2;
    private const Token ExpiryToken = (Token)3;
    private const Token FirstConnectionToken = (Token)16;

    private readonly MiniRedisOptions _options;
    private readonly Poll _poll;
    private readonly AcceptLoop _accept;
    private readonly Waker _stop;
    private readonly TimerWheel _expiry;
    private readonly CommandExecutor _executor;
    private readonly RespWriter _writer = new();
    private readonly ConnectionTable<Connection> _connections = new(FirstConnectionToken, capacity: 256);
    private readonly Events _events = new(1024);
    private long _nextClientId = 1;
    private volatile bool _stopping;

    /// <summary>Binds the listener and prepares the loop; call <see cref="Run()"/> to serve.</summary>
    /// <param name="endpoint">Where to listen, e.g. 127.0.0.1:6380 (port 0 picks a free port).</param>
    /// <param name="options">Limits; <see langword="null"/> for <see cref="MiniRedisOptions.Default"/>.</param>
    public MiniRedisServer(IPEndPoint endpoint, MiniRedisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _options = options ?? MiniRedisOptions.Default;
        _poll = new Poll();
        try
        {
            TcpListener listener = TcpListener.Bind(endpoint);
            LocalEndPoint = listener.LocalEndPoint;
            _accept = new AcceptLoop(_poll.Registry, listener, ListenerToken, AcceptRetryToken,
                new AcceptLoopOptions { DescriptorHeadroom = _options.DescriptorHeadroom });
            _stop = new Waker(_poll.Registry, StopToken);
            _expiry = new TimerWheel(capacity: 1024);
            _poll.Registry.Register(_expiry, ExpiryToken, Interest.Readable);
        }
        catch
        {
            _accept?.Dispose();
            _stop?.Dispose();
            _poll.Dispose();
            throw;
        }

        Keyspace = new Keyspace(Clock.Monotonic, _expiry);
        var settings = new ServerSettings { Port = LocalEndPoint.Port, Limits = _options.Limits };
        _executor = new CommandExecutor(Keyspace, settings);
        Warmup.Run(settings);
    }

    /// <summary>The address clients connect to (with the actual port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The database (for tests and embedding).</summary>
    public Keyspace Keyspace { get; }

    /// <summary>Connections open right now.</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => _accept.Accepted;

    /// <summary>The most clients held at once (<see cref="MiniRedisOptions.DescriptorHeadroom"/>); <see cref="int.MaxValue"/> when unbounded.</summary>
    public int MaxClients => _accept.MaxConnections;

    /// <summary>Connections accepted and closed at once because <see cref="MaxClients"/> were held or descriptors ran out.</summary>
    public long ShedConnections => _accept.Shed;

    /// <summary>The most reply bytes ever queued for one client (bounded by the high-water mark plus one batch).</summary>
    public int PeakOutputBytes { get; private set; }

    /// <summary>Connections closed because handling them threw something other than a socket error (a bug; 0 in tests).</summary>
    public long InternalErrors { get; private set; }

    /// <summary>The last of <see cref="InternalErrors"/>, for diagnosis (printing it here could need a descriptor).</summary>
    public Exception? LastInternalError { get; private set; }

    /// <summary>Makes <see cref="Run()"/> return soon. Thread-safe; may be called from a signal handler.</summary>
    public void Stop()
    {
        _stopping = true;
        _stop.Wake();
    }

    /// <summary>Serves on the calling thread until <see cref="Stop"/> is called.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            RunOnce();
        }
    }

    /// <summary>Waits for one batch of events (up to <paramref name="timeout"/>) and handles it; returns the number of events.</summary>
    public int RunOnce(TimeSpan? timeout = null)
    {
        _poll.Wait(_events, timeout);
        foreach (Event ev in _events)
        {
            switch (ev.Token)
            {
                case ListenerToken or AcceptRetryToken:
                    AcceptAll();
                    break;
                case ExpiryToken:
                    Keyspace.SweepExpired();
                    break;
                case StopToken:
                    break;
                default:
                    if (_connections.TryGet(ev.Token, out Connection? connection))
                    {
                        Serve(ev.Token, connection, ev);
                    }

                    break;   // else: a late event for a connection closed earlier in this batch
            }
        }

        return _events.Count;
    }

    /// <summary>Closes every connection, the listener, the timers and the Poll.</summary>
    public void Dispose()
    {
        foreach (KeyValuePair<Token, Connection> entry in _connections)
        {
            Close(entry.Key);
        }

        _accept.Dispose();
        _stop.Dispose();
        _expiry.Dispose();
        _poll.Dispose();
    }

    private void AcceptAll()
    {
        while (_accept.TryAccept(out TcpStream? stream))
        {
            stream.NoDelay = true;
            var connection = new Connection(stream, _options.Limits, _nextClientId++, _options.OutputHighWaterMark);
            Token token = _connections.Add(connection);
            _poll.Registry.Register(stream, token, Interest.Readable);
        }
    }

    private void Serve(Token token, Connection connection, Event ev)
    {
        try
        {
            if (ev.IsWritable)
            {
                connection.Output.Flush(connection.Stream);
            }

            Pump(connection, ev.IsReadClosed);
            if (connection.Abort
                || connection.Output.UpdateInterest(_poll.Registry, connection.Stream, token,
                    reading: !connection.Closing && !connection.PeerDone) == InterestUpdate.Close)
            {
                Close(token);   // aborted, or every reply is out and nothing more is to be read (QUIT, end of stream)
            }
        }
        catch (SocketException)
        {
            Close(token);   // reset by the peer, or similar: nobody left to answer
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            InternalErrors++;
            LastInternalError = e;
            _writer.Clear();
            Close(token);   // a bug must cost one connection, not the server
        }
    }

    /// <summary>
    /// Runs the commands already read, then reads and runs more, until the client has nothing more for now (a
    /// read that did not fill the buffer, or would-block), its replies pile up past the high-water mark, or it
    /// is to be closed.
    /// </summary>
    private void Pump(Connection connection, bool peerClosing)
    {
        bool drained = false;
        while (true)
        {
            while (!connection.Closing && !connection.Output.IsAboveHighWaterMark)
            {
                SessionStatus status = connection.Session.Process(_executor, _writer, _options.OutputHighWaterMark);
                if (_writer.Length > 0)
                {
                    connection.Output.Write(connection.Stream, _writer.Written);   // straight to the kernel when nothing waits
                    _writer.Clear();
                    if (connection.Output.Length > PeakOutputBytes)
                    {
                        PeakOutputBytes = connection.Output.Length;
                    }
                }

                if (status == SessionStatus.Close)
                {
                    connection.Closing = true;
                }
                else if (status == SessionStatus.Abort)
                {
                    connection.Abort = true;
                    return;
                }
                else if (status == SessionStatus.NeedInput)
                {
                    break;
                }
            }

            if (drained || connection.Closing || connection.PeerDone || connection.Output.IsAboveHighWaterMark)
            {
                return;
            }

            Span<byte> room = connection.Session.GetReadSpace();
            if (room.IsEmpty)
            {
                connection.Abort = true;   // past client-query-buffer-limit: redis closes such a client silently
                return;
            }

            if (!connection.Stream.TryRead(room, out int read))
            {
                return;
            }

            if (read == 0)
            {
                connection.PeerDone = true;
                return;
            }

            connection.Session.Commit(read);
            // A short read emptied the socket: skip the second read that would only hear EAGAIN (new data makes a
            // new edge). Not when the event said the peer is closing: its FIN came with this edge, read to the end.
            drained = read < room.Length && !peerClosing;
        }
    }

    private void Close(Token token)
    {
        if (_connections.Remove(token, out Connection? connection))
        {
            connection.Output.Clear();
            connection.Stream.Dispose();
            _accept.ConnectionClosed(); // counts the clients held against MaxClients, resumes a paused loop at once
        }
    }
}
