namespace Polling.Reliability.Tests;

/// <summary>
/// An edge-triggered TCP echo server on its own thread and its own <see cref="Poll"/>, written against the public
/// API the way the README teaches: accept until would-block, per connection read until would-block and write back,
/// keep what did not fit until Writable, close at end of stream. A connection's failure (reset, EPIPE) closes that
/// connection only, is counted, and the loop lives on; anything else that escapes the loop is kept in
/// <see cref="Failure"/> and fails the test that owns the server.
/// </summary>
internal sealed class EchoServer : IDisposable
{
    private const Token ListenerToken = (Token)0;
    private const Token StopToken = (Token)ulong.MaxValue;

    private readonly Poll _poll;
    private readonly TcpListener _listener;
    private readonly Waker _stop;
    private readonly Thread _thread;
    private readonly List<Connection?> _slots = [];
    private readonly Stack<int> _free = new();
    private volatile bool _stopping;
    private int _live;
    private int _peak;
    private long _accepted;
    private long _bytes;
    private long _connectionFaults;
    private long _acceptFaults;

    public EchoServer(PollBackend backend, int backlog = 4096, bool accepting = true)
    {
        _poll = new Poll(backend);
        _listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0), new TcpListenerOptions { Backlog = backlog });
        _stop = new Waker(_poll.Registry, StopToken);
        if (accepting)
        {
            _poll.Registry.Register(_listener, ListenerToken, Interest.Readable);
        }

        _thread = new Thread(Run) { Name = $"echo server ({backend})", IsBackground = true };
        _thread.Start();
    }

    public IPEndPoint EndPoint => _listener.LocalEndPoint;

    /// <summary>Connections accepted and not yet closed.</summary>
    public int Live => Volatile.Read(ref _live);

    /// <summary>The most connections open at once.</summary>
    public int Peak => Volatile.Read(ref _peak);

    public long Accepted => Interlocked.Read(ref _accepted);

    public long BytesEchoed => Interlocked.Read(ref _bytes);

    /// <summary>Connections closed because a read or write threw (reset, EPIPE): the faults the server survived.</summary>
    public long ConnectionFaults => Interlocked.Read(ref _connectionFaults);

    /// <summary>Accepts that threw (EMFILE and the like): the server survived those too.</summary>
    public long AcceptFaults => Interlocked.Read(ref _acceptFaults);

    /// <summary>What escaped the loop (a bug in the library or in this server), or null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Starts accepting (for the full-backlog test, which lets the backlog fill first).</summary>
    public void StartAccepting() => _poll.Registry.Register(_listener, ListenerToken, Interest.Readable);

    /// <summary>Throws when the loop died.</summary>
    public void AssertAlive()
    {
        if (Failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"the echo server's loop died: {Failure}");
        }

        Assert.True(_thread.IsAlive, "the echo server's loop thread ended");
    }

    /// <summary>Waits (with a deadline, on the server's own counter) until no connection is open.</summary>
    public void WaitUntilIdle(TimeSpan deadline)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Live != 0)
        {
            AssertAlive();
            if (clock.Elapsed > deadline)
            {
                throw new Xunit.Sdk.XunitException($"the server still has {Live} connection(s) open {deadline.TotalSeconds} s after the clients closed");
            }

            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Wake();
        if (!_thread.Join(TimeSpan.FromSeconds(30)))
        {
            throw new Xunit.Sdk.XunitException("the echo server's loop did not stop within 30 s");
        }

        foreach (Connection? connection in _slots)
        {
            connection?.Stream.Dispose();
        }

        _stop.Dispose();
        _listener.Dispose();
        _poll.Dispose();
    }

    private void Run()
    {
        var events = new Events(1024);
        try
        {
            while (!_stopping)
            {
                _poll.Wait(events);
                foreach (Event ev in events)
                {
                    switch (ev.Token)
                    {
                        case StopToken:
                            break;
                        case ListenerToken:
                            Accept();
                            break;
                        default:
                            Serve((int)((ulong)ev.Token - 1));
                            break;
                    }
                }
            }
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    private void Accept()
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
            catch (SocketException)
            {
                Interlocked.Increment(ref _acceptFaults);
                return;
            }

            int slot = _free.Count > 0 ? _free.Pop() : Add();
            _slots[slot] = new Connection(stream);
            _poll.Registry.Register(stream, (Token)(ulong)(slot + 1), Interest.Readable | Interest.Writable);
            Interlocked.Increment(ref _accepted);
            int live = Interlocked.Increment(ref _live);
            if (live > _peak)
            {
                Volatile.Write(ref _peak, live);
            }

            Serve(slot); // data may have arrived with the connection
        }
    }

    private int Add()
    {
        _slots.Add(null);
        return _slots.Count - 1;
    }

    private void Serve(int slot)
    {
        if (slot < 0 || slot >= _slots.Count || _slots[slot] is not { } c)
        {
            return; // a late event for a connection closed in this batch
        }

        try
        {
            while (true)
            {
                while (c.Length > 0)
                {
                    if (!c.Stream.TryWrite(c.Buffer.AsSpan(c.Offset, c.Length), out int written))
                    {
                        return; // Writable will tell us
                    }

                    c.Offset += written;
                    c.Length -= written;
                    Interlocked.Add(ref _bytes, written);
                }

                if (c.Ended)
                {
                    Close(slot);
                    return;
                }

                if (!c.Stream.TryRead(c.Buffer, out int read))
                {
                    return; // drained: the next event comes with new data
                }

                if (read == 0)
                {
                    c.Ended = true; // echo what is left, then close (the client may have only half-closed)
                }

                c.Offset = 0;
                c.Length = read;
            }
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _connectionFaults);
            Close(slot);
        }
    }

    private void Close(int slot)
    {
        _slots[slot]!.Stream.Dispose(); // deregisters itself
        _slots[slot] = null;
        _free.Push(slot);
        Interlocked.Decrement(ref _live);
    }

    private sealed class Connection(TcpStream stream)
    {
        public TcpStream Stream { get; } = stream;

        public byte[] Buffer { get; } = new byte[4096];

        public int Offset { get; set; }

        public int Length { get; set; }

        public bool Ended { get; set; }
    }
}
