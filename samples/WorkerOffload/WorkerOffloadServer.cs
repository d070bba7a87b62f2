using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

namespace WorkerOffload;

/// <summary>
/// A line-protocol TCP server that keeps its I/O thread free of long work — the pattern "parse on the loop,
/// compute on workers, reply from the loop":
/// <list type="bullet">
/// <item><c>echo &lt;text&gt;</c> is answered on the loop at once with <c>&lt;text&gt;</c>.</item>
/// <item><c>work &lt;ms&gt;</c> is a slow job (a stand-in for a blocking call or a heavy computation): the loop hands it
/// to a thread-pool worker with <see cref="Task.Run(Action)"/> and goes back to serving everyone else. The worker
/// writes its result into a <see cref="ChannelSource{T}"/>; the loop gets a Readable event for it, drains the
/// results and writes <c>done &lt;ms&gt;</c> to the connection that asked, from the loop thread — the only thread
/// that ever touches a socket.</item>
/// </list>
/// Replies to <c>work</c> come when the job is done, so they can overtake each other and follow later echoes.
/// </summary>
/// <remarks>
/// Every kind of source appears: a <see cref="TcpListener"/> and <see cref="TcpStream"/>s, the results channel,
/// a <see cref="TimerWheel"/> for one idle timeout per connection, a <see cref="SignalSource"/> for SIGINT/SIGTERM
/// (when <see cref="WorkerOffloadOptions.StopOnSignals"/>), a <see cref="Waker"/> for <see cref="Stop"/>, and a
/// <see cref="TimerSource"/> that bounds the graceful shutdown. Stopping closes the listener, stops reading
/// requests, lets running jobs deliver their replies, closes each connection once it has nothing left to send,
/// and returns from <see cref="Run"/> — at the latest when <see cref="WorkerOffloadOptions.ShutdownGrace"/> ends.
/// </remarks>
/// <example>
/// <code>
/// using var server = new WorkerOffloadServer(new IPEndPoint(IPAddress.Loopback, 0));
/// var loop = new Thread(server.Run);
/// loop.Start();
/// // clients connect to server.LocalEndPoint and send "work 2000\n", "echo hi\n", ...
/// server.Stop();
/// loop.Join();
/// </code>
/// </example>
public sealed class WorkerOffloadServer : IDisposable
{
    /// <summary>The longest request line, in bytes; a longer one is answered with an error and the connection closed.</summary>
    public const int MaxLineLength = 1024;

    private const Token ListenerToken = (Token)0;
    private const Token ResultsToken = (Token)1;
    private const Token SignalsToken = (Token)2;
    private const Token StopToken = (Token)3;
    private const Token IdleToken = (Token)4;
    private const Token GraceToken = (Token)5;
    private const ulong FirstConnection = 16;

    private readonly WorkerOffloadOptions _options;
    private readonly Poll _poll = new();
    private readonly Events _events = new(256);
    private readonly TcpListener _listener;
    private readonly ChannelSource<JobResult> _results = ChannelSource.CreateUnbounded<JobResult>();
    private readonly SignalSource? _signals;
    private readonly Waker _stop;
    private readonly TimerWheel _idle = new(1024);
    private readonly TimerSource _grace = new();
    private readonly Token[] _expired = new Token[64];
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private readonly Stack<int> _freeSlots = new();
    private Connection?[] _connections = new Connection?[64];
    private int _slotsInUse;
    private long _nextConnectionId;
    private int _jobsInFlight;
    private volatile bool _stopRequested;
    private bool _shuttingDown;

    /// <summary>Binds the listener and registers every source; call <see cref="Run"/> to serve.</summary>
    /// <param name="endpoint">Where to listen (port 0 picks a free port).</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    public WorkerOffloadServer(IPEndPoint endpoint, WorkerOffloadOptions? options = null)
    {
        _options = options ?? new WorkerOffloadOptions();
        _listener = TcpListener.Bind(endpoint);
        LocalEndPoint = _listener.LocalEndPoint;
        _stop = new Waker(_poll.Registry, StopToken);
        Registry registry = _poll.Registry;
        registry.Register(_listener, ListenerToken, Interest.Readable);
        registry.Register(_results, ResultsToken, Interest.Readable);
        registry.Register(_idle, IdleToken, Interest.Readable);
        registry.Register(_grace, GraceToken, Interest.Readable);
        if (_options.StopOnSignals)
        {
            // Registered: from now on SIGINT/SIGTERM are events here instead of ending the process.
            _signals = new SignalSource(PosixSignal.SIGINT, PosixSignal.SIGTERM);
            registry.Register(_signals, SignalsToken, Interest.Readable);
        }
    }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted so far.</summary>
    public long AcceptedConnections { get; private set; }

    /// <summary>Jobs whose replies were delivered to their connection.</summary>
    public long CompletedJobs { get; private set; }

    /// <summary>Why <see cref="Run"/> stopped (<c>"SIGTERM"</c>, <c>"Stop()"</c>, ...), or <see langword="null"/> while it runs.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Asks <see cref="Run"/> to shut down gracefully. Thread-safe.</summary>
    public void Stop()
    {
        _stopRequested = true;
        _stop.Wake();
    }

    /// <summary>Serves on the calling thread until stopped (by <see cref="Stop"/> or a signal) and every connection is done.</summary>
    public void Run()
    {
        while (!_shuttingDown || _slotsInUse > 0)
        {
            _poll.Wait(_events);
            foreach (Event ev in _events)
            {
                switch (ev.Token)
                {
                    case ListenerToken:
                        AcceptAll();
                        break;
                    case ResultsToken:
                        DeliverResults();
                        break;
                    case SignalsToken:
                        while (_signals!.TryRead(out PosixSignal signal))
                        {
                            BeginShutdown(signal.ToString());
                        }

                        break;
                    case StopToken:
                        if (_stopRequested)
                        {
                            BeginShutdown("Stop()");
                        }

                        break;
                    case IdleToken:
                        CloseIdleConnections();
                        break;
                    case GraceToken:
                        if (_grace.TryReadExpirations(out _))
                        {
                            CloseAll();
                        }

                        break;
                    default:
                        Serve((int)((ulong)ev.Token - FirstConnection), ev);
                        break;
                }
            }
        }
    }

    /// <summary>Closes every connection and source. Jobs still running finish on their workers and are discarded.</summary>
    public void Dispose()
    {
        CloseAll();
        _listener.Dispose();
        _results.Dispose();
        _signals?.Dispose();
        _stop.Dispose();
        _idle.Dispose();
        _grace.Dispose();
        _poll.Dispose();
    }

    private void AcceptAll()
    {
        while (!_shuttingDown)
        {
            TcpStream? stream;
            try
            {
                if (!_listener.TryAccept(out stream))
                {
                    return;
                }
            }
            catch (SocketException e)
            {
                // E.g. the client gave up already, or no descriptors are left: try again on the next event.
                Console.Error.WriteLine($"accept failed: {e.Message}");
                return;
            }

            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotsInUse;
            if (slot == _connections.Length)
            {
                Array.Resize(ref _connections, _connections.Length * 2);
            }

            Token token = TokenOf(slot);
            var connection = new Connection(stream, ++_nextConnectionId);
            connection.IdleTimeout = _idle.Schedule(token, _options.IdleTimeout);
            _connections[slot] = connection;
            _slotsInUse++;
            AcceptedConnections++;
            stream.NoDelay = true;
            _poll.Registry.Register(stream, token, Interest.Readable);
        }
    }

    private void Serve(int slot, Event ev)
    {
        if (_connections[slot] is not { } connection)
        {
            return; // closed earlier in this batch
        }

        try
        {
            if (ev.IsWritable)
            {
                Flush(connection);
            }

            if ((ev.IsReadable || ev.IsReadClosed || ev.IsError) && !connection.Closing)
            {
                ReadRequests(slot, connection);
            }

            FinishOrUpdate(slot, connection);
        }
        catch (SocketException)
        {
            Close(slot); // reset by the peer or similar: nobody left to answer
        }
    }

    /// <summary>Reads until would-block (edge triggering) and handles every complete line.</summary>
    private void ReadRequests(int slot, Connection connection)
    {
        while (!connection.PeerDone && !connection.Closing)
        {
            if (!connection.Stream.TryRead(_readBuffer, out int read))
            {
                return;
            }

            if (read == 0)
            {
                connection.PeerDone = true; // half-closed: still deliver the replies of running jobs
                return;
            }

            _idle.Reschedule(connection.IdleTimeout, _options.IdleTimeout);
            foreach (byte b in _readBuffer.AsSpan(0, read))
            {
                if (b == (byte)'\n')
                {
                    HandleLine(slot, connection, connection.Line.TrimEnd((byte)'\r'));
                    connection.LineLength = 0;
                }
                else if (connection.LineLength == MaxLineLength)
                {
                    Send(connection, "error line too long\n"u8);
                    connection.Closing = true;
                    return;
                }
                else
                {
                    connection.LineBuffer[connection.LineLength++] = b;
                }
            }
        }
    }

    private void HandleLine(int slot, Connection connection, ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("echo "u8))
        {
            Send(connection, line["echo "u8.Length..]);
            Send(connection, "\n"u8);
        }
        else if (line.StartsWith("work "u8)
            && int.TryParse(line["work "u8.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int milliseconds)
            && milliseconds <= _options.MaxJobDuration.TotalMilliseconds)
        {
            if (_jobsInFlight >= _options.MaxJobsInFlight)
            {
                Send(connection, "busy\n"u8);
                return;
            }

            _jobsInFlight++;
            connection.JobsInFlight++;
            var job = new JobRequest(slot, connection.Id, milliseconds);
            _ = Task.Run(() => Work(job));
        }
        else
        {
            Send(connection, "error expected 'echo <text>' or 'work <milliseconds>'\n"u8);
        }
    }

    /// <summary>Runs on a thread-pool worker, never on the loop: the slow part, then the result into the channel.</summary>
    private void Work(JobRequest job)
    {
        Thread.Sleep(job.Milliseconds); // the stand-in for a blocking call or a long computation
        _results.Writer.TryWrite(new JobResult(job));  // false only once the server is disposed
    }

    /// <summary>Back on the loop: drain every finished job and reply to its connection, if it is still there.</summary>
    private void DeliverResults()
    {
        Span<byte> reply = stackalloc byte[32];
        while (_results.TryRead(out JobResult result))
        {
            _jobsInFlight--;
            int slot = result.Job.Slot;
            if (_connections[slot] is not { } connection || connection.Id != result.Job.ConnectionId)
            {
                continue; // the client left while its job ran
            }

            connection.JobsInFlight--;
            CompletedJobs++;
            try
            {
                Utf8.TryWrite(reply, $"done {result.Job.Milliseconds}\n", out int length);
                Send(connection, reply[..length]);
                FinishOrUpdate(slot, connection);
            }
            catch (SocketException)
            {
                Close(slot);
            }
        }
    }

    private void CloseIdleConnections()
    {
        int expired;
        do
        {
            expired = _idle.TakeExpired(_expired);
            foreach (Token token in _expired.AsSpan(0, expired))
            {
                int slot = (int)((ulong)token - FirstConnection);
                if (_connections[slot] is not { } connection)
                {
                    continue;
                }

                if (connection.JobsInFlight > 0)
                {
                    // Not idle: it is waiting for a job. Look again later.
                    connection.IdleTimeout = _idle.Schedule(token, _options.IdleTimeout);
                }
                else
                {
                    Close(slot);
                }
            }
        }
        while (expired == _expired.Length);
    }

    private void BeginShutdown(string reason)
    {
        if (_shuttingDown)
        {
            return;
        }

        _shuttingDown = true;
        StopReason = reason;
        _listener.Dispose();
        _grace.SetOnce(_options.ShutdownGrace);
        for (int slot = 0; slot < _connections.Length; slot++)
        {
            if (_connections[slot] is { } connection)
            {
                connection.Closing = true;
                FinishOrUpdate(slot, connection);
            }
        }
    }

    /// <summary>Closes a connection that has nothing left to do; otherwise asks for Writable only while output waits.</summary>
    private void FinishOrUpdate(int slot, Connection connection)
    {
        bool finished = (connection.PeerDone || connection.Closing) && connection.JobsInFlight == 0 && connection.PendingLength == 0;
        if (finished)
        {
            Close(slot);
            return;
        }

        bool wantWritable = connection.PendingLength > 0;
        if (wantWritable != connection.WritableRegistered)
        {
            _poll.Registry.Reregister(connection.Stream, TokenOf(slot), wantWritable ? Interest.Readable | Interest.Writable : Interest.Readable);
            connection.WritableRegistered = wantWritable;
        }
    }

    /// <summary>Writes at once if nothing is queued; queues what the kernel does not take.</summary>
    private static void Send(Connection connection, ReadOnlySpan<byte> data)
    {
        if (connection.PendingLength == 0 && connection.Stream.TryWrite(data, out int written))
        {
            data = data[written..];
        }

        connection.Enqueue(data);
    }

    private static void Flush(Connection connection)
    {
        while (connection.PendingLength > 0 && connection.Stream.TryWrite(connection.Pending, out int written))
        {
            connection.Consume(written);
        }
    }

    private void CloseAll()
    {
        for (int slot = 0; slot < _connections.Length; slot++)
        {
            if (_connections[slot] is not null)
            {
                Close(slot);
            }
        }
    }

    private void Close(int slot)
    {
        Connection connection = _connections[slot]!;
        _idle.Cancel(connection.IdleTimeout);
        connection.Stream.Dispose();
        _connections[slot] = null;
        _freeSlots.Push(slot);
        _slotsInUse--;
    }

    private static Token TokenOf(int slot) => (Token)(FirstConnection + (ulong)slot);

    /// <summary>What the loop hands a worker: which connection asked (slot and id, since slots are reused) and the job.</summary>
    private readonly record struct JobRequest(int Slot, long ConnectionId, int Milliseconds);

    /// <summary>What a worker hands back through the channel (a real job would carry its output too).</summary>
    private readonly record struct JobResult(JobRequest Job);

    /// <summary>One client: its stream, the request line being assembled and the replies the kernel has not taken yet.</summary>
    private sealed class Connection(TcpStream stream, long id)
    {
        private byte[] _pending = new byte[256];
        private int _start;

        public TcpStream Stream { get; } = stream;

        public long Id { get; } = id;

        public byte[] LineBuffer { get; } = new byte[MaxLineLength];

        public int LineLength { get; set; }

        public ReadOnlySpan<byte> Line => LineBuffer.AsSpan(0, LineLength);

        public TimerKey IdleTimeout { get; set; }

        public int JobsInFlight { get; set; }

        public bool PeerDone { get; set; }

        public bool Closing { get; set; }

        public bool WritableRegistered { get; set; }

        public int PendingLength { get; private set; }

        public ReadOnlySpan<byte> Pending => _pending.AsSpan(_start, PendingLength);

        public void Enqueue(ReadOnlySpan<byte> data)
        {
            if (data.IsEmpty)
            {
                return;
            }

            if (_start + PendingLength + data.Length > _pending.Length)
            {
                byte[] target = PendingLength + data.Length > _pending.Length
                    ? new byte[Math.Max(PendingLength + data.Length, _pending.Length * 2)]
                    : _pending;
                Pending.CopyTo(target);
                _pending = target;
                _start = 0;
            }

            data.CopyTo(_pending.AsSpan(_start + PendingLength));
            PendingLength += data.Length;
        }

        public void Consume(int count)
        {
            _start += count;
            PendingLength -= count;
            if (PendingLength == 0)
            {
                _start = 0;
            }
        }
    }
}
