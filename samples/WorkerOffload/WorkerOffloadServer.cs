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
/// Built on Polling.Net's server building blocks: an <see cref="AcceptLoop"/> (survives descriptor exhaustion), a
/// <see cref="ConnectionTable{T}"/> (a job's reply carries its connection's token, whose generation makes a reply
/// for a client that left miss, even if a new client took its slot), an <see cref="OutputQueue"/> per connection
/// and <see cref="IdleTimeouts"/>. One client's failure closes that client only.
/// Every kind of source appears: a <see cref="TcpListener"/> and <see cref="TcpStream"/>s, the results channel,
/// a <see cref="TimerWheel"/> (inside <see cref="IdleTimeouts"/>) for one idle timeout per connection, a <see cref="SignalSource"/> for SIGINT/SIGTERM
/// (when <see cref="WorkerOffloadOptions.StopOnSignals"/>), a <see cref="Waker"/> for <see cref="Stop"/>, and a
/// <see cref="TimerSource"/> that bounds the graceful shutdown. Stopping closes the listener, stops reading
/// requests, lets running jobs deliver their replies, closes each connection once it has nothing left to send
/// (with an orderly end of stream: unread input is drained first, so the close is never a reset), and returns from <see cref="Run"/> — at the latest when <see cref="WorkerOffloadOptions.ShutdownGrace"/> ends.
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
    private const Token AcceptRetryToken = (Token)1;
    private const Token ResultsToken = (Token)2;
    private const Token SignalsToken = (Token)3;
    private const Token StopToken = (Token)4;
    private const Token IdleToken = (Token)5;
    private const Token GraceToken = (Token)6;
    private const Token FirstConnection = (Token)16;

    private readonly WorkerOffloadOptions _options;
    private readonly Poll _poll = new();
    private readonly Events _events = new(256);
    private readonly AcceptLoop _accept;
    private readonly ChannelSource<JobResult> _results = ChannelSource.CreateUnbounded<JobResult>();
    private readonly SignalSource? _signals;
    private readonly Waker _stop;
    private readonly IdleTimeouts _idle;
    private readonly TimerSource _grace = new();
    private readonly ConnectionTable<Connection> _connections = new(FirstConnection);
    private readonly Token[] _expired = new Token[64];
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private int _jobsInFlight;
    private volatile bool _stopRequested;
    private bool _shuttingDown;

    /// <summary>Binds the listener and registers every source; call <see cref="Run"/> to serve.</summary>
    /// <param name="endpoint">Where to listen (port 0 picks a free port).</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    public WorkerOffloadServer(IPEndPoint endpoint, WorkerOffloadOptions? options = null)
    {
        _options = options ?? new WorkerOffloadOptions();
        Warmup.PrepareMethods(typeof(WorkerOffloadServer)); // nothing left to load when descriptors run out
        Registry registry = _poll.Registry;
        _accept = new AcceptLoop(registry, TcpListener.Bind(endpoint), ListenerToken, AcceptRetryToken,
            new AcceptLoopOptions { DescriptorHeadroom = _options.DescriptorHeadroom });
        LocalEndPoint = (IPEndPoint)_accept.LocalEndPoint;
        _stop = new Waker(registry, StopToken);
        _idle = new IdleTimeouts(_options.IdleTimeout);
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
    public long AcceptedConnections => _accept.Accepted;

    /// <summary>Connections accepted and closed at once: over the cap (<see cref="WorkerOffloadOptions.DescriptorHeadroom"/>) or out of descriptors.</summary>
    public long ShedConnections => _accept.Shed;

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
        while (!_shuttingDown || _connections.Count > 0)
        {
            _poll.Wait(_events);
            foreach (Event ev in _events)
            {
                switch (ev.Token)
                {
                    case ListenerToken or AcceptRetryToken:
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
                        Serve(ev.Token, ev);
                        break;
                }
            }
        }
    }

    /// <summary>Closes every connection and source. Jobs still running finish on their workers and are discarded.</summary>
    public void Dispose()
    {
        CloseAll();
        _accept.Dispose();
        _results.Dispose();
        _signals?.Dispose();
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
                _poll.Registry.Register(stream, token, Interest.Readable);
                connection.Idle = _idle.Start(token);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                Close(token); // gone already, or refused by the kernel: the others go on
            }
        }
    }

    private void Serve(Token token, Event ev)
    {
        if (!_connections.TryGet(token, out Connection? connection))
        {
            return; // closed earlier in this batch
        }

        try
        {
            if (ev.IsWritable)
            {
                connection.Output.Flush(connection.Stream);
            }

            if (!connection.Closing)
            {
                ReadRequests(token, connection);
            }

            FinishOrUpdate(token, connection);
        }
        catch (SocketException)
        {
            Close(token); // reset by the peer or similar: nobody left to answer
        }
    }

    /// <summary>Reads until would-block (edge triggering) and handles every complete line.</summary>
    private void ReadRequests(Token token, Connection connection)
    {
        while (!connection.PeerDone && !connection.Closing && !connection.Output.IsAboveHighWaterMark)
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

            _idle.Restart(ref connection.Idle, token);
            foreach (byte b in _readBuffer.AsSpan(0, read))
            {
                if (b == (byte)'\n')
                {
                    HandleLine(token, connection, connection.Line.TrimEnd((byte)'\r'));
                    connection.LineLength = 0;
                }
                else if (connection.LineLength == MaxLineLength)
                {
                    connection.Output.Enqueue("error line too long\n"u8);
                    connection.Closing = true;
                    break;
                }
                else
                {
                    connection.LineBuffer[connection.LineLength++] = b;
                }
            }
        }
    }

    private void HandleLine(Token token, Connection connection, ReadOnlySpan<byte> line)
    {
        OutputQueue output = connection.Output;
        if (line.StartsWith("echo "u8))
        {
            output.Enqueue(line["echo "u8.Length..]);
            output.Enqueue("\n"u8);
        }
        else if (line.StartsWith("work "u8)
            && int.TryParse(line["work "u8.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int milliseconds)
            && milliseconds <= _options.MaxJobDuration.TotalMilliseconds)
        {
            if (_jobsInFlight >= _options.MaxJobsInFlight)
            {
                output.Enqueue("busy\n"u8);
                return;
            }

            _jobsInFlight++;
            connection.JobsInFlight++;
            var job = new JobRequest(token, milliseconds);
            _ = Task.Run(() => Work(job));
        }
        else
        {
            output.Enqueue("error expected 'echo <text>' or 'work <milliseconds>'\n"u8);
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
            Token token = result.Job.Connection;
            if (!_connections.TryGet(token, out Connection? connection))
            {
                continue; // the client left while its job ran (its slot may hold another client now)
            }

            connection.JobsInFlight--;
            CompletedJobs++;
            try
            {
                Utf8.TryWrite(reply, $"done {result.Job.Milliseconds}\n", out int length);
                connection.Output.Enqueue(reply[..length]);
                FinishOrUpdate(token, connection);
            }
            catch (SocketException)
            {
                Close(token);
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
                if (!_connections.TryGet(token, out Connection? connection))
                {
                    continue;
                }

                if (connection.JobsInFlight > 0)
                {
                    connection.Idle = _idle.Start(token); // not idle: it is waiting for a job. Look again later.
                }
                else
                {
                    Close(token);
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
        _accept.Stop();
        _grace.SetOnce(_options.ShutdownGrace);
        foreach (KeyValuePair<Token, Connection> entry in _connections)
        {
            entry.Value.Closing = true;
            try
            {
                FinishOrUpdate(entry.Key, entry.Value);
            }
            catch (SocketException)
            {
                Close(entry.Key);
            }
        }
    }

    /// <summary>
    /// Writes what waits; closes a connection that has nothing left to do (orderly: unread input drained, so the
    /// close sends FIN after the replies, never a reset); otherwise asks for Writable only while output waits.
    /// </summary>
    private void FinishOrUpdate(Token token, Connection connection)
    {
        OutputQueue output = connection.Output;
        output.Flush(connection.Stream);
        bool finished = (connection.PeerDone || connection.Closing) && connection.JobsInFlight == 0 && output.IsEmpty;
        if (finished)
        {
            while (!connection.PeerDone && connection.Stream.TryRead(_readBuffer, out int read))
            {
                connection.PeerDone = read == 0;
            }

            Close(token);
            return;
        }

        // InterestUpdate.Close here means only that the socket needs no event: jobs are still running, and their
        // replies come through the channel, which calls this again.
        output.UpdateInterest(_poll.Registry, connection.Stream, token, reading: !connection.PeerDone && !connection.Closing);
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
            _accept.ConnectionClosed();
        }
    }

    /// <summary>What the loop hands a worker: which connection asked (its token, safe against slot reuse) and the job.</summary>
    private readonly record struct JobRequest(Token Connection, int Milliseconds);

    /// <summary>What a worker hands back through the channel (a real job would carry its output too).</summary>
    private readonly record struct JobResult(JobRequest Job);

    /// <summary>One client: its stream, the request line being assembled and the replies the kernel has not taken yet.</summary>
    private sealed class Connection(TcpStream stream)
    {
        public TimerKey Idle;

        public TcpStream Stream { get; } = stream;

        public OutputQueue Output { get; } = new(highWaterMark: 64 * 1024);

        public byte[] LineBuffer { get; } = new byte[MaxLineLength];

        public int LineLength { get; set; }

        public ReadOnlySpan<byte> Line => LineBuffer.AsSpan(0, LineLength);

        public int JobsInFlight { get; set; }

        public bool PeerDone { get; set; }

        public bool Closing { get; set; }
    }
}
