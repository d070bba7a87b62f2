using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// Accepts connections from a <see cref="TcpListener"/> or <see cref="UnixListener"/> the way a production server
/// must: until the kernel has no more, skipping connections that died in the backlog, and surviving descriptor
/// and memory exhaustion without a busy loop, an exception, an allocation of a string or a log line.
/// </summary>
/// <remarks>
/// <para><b>Use.</b> The loop registers the listener under <c>listenerToken</c> (with
/// <see cref="AcceptLoopOptions.Trigger"/>) and its own retry timer under <c>retryToken</c>. On an event for
/// either token call <see cref="TryAccept(out TcpStream)"/> until it returns <see langword="false"/>; every
/// <see langword="true"/> hands you a new non-blocking, close-on-exec, unregistered connection.</para>
/// <para><b>Exhaustion.</b> When <c>accept</c> fails with <c>EMFILE</c>/<c>ENFILE</c> the loop applies
/// <see cref="AcceptLoopOptions.Remedy"/>: by default it sheds the backlog with a reserve descriptor (libuv, Bun),
/// otherwise — and always for <c>ENOBUFS</c>/<c>ENOMEM</c> — it stops listening and retries after
/// <see cref="AcceptLoopOptions.RetryDelay"/> (nginx). Either way the listener never spins, with edge or level
/// triggering, on epoll or poll(2), and connections are accepted again as soon as descriptors are free.
/// Everything that path needs (the reserve descriptor, the timer, the code) exists from construction on.
/// <see cref="Accepted"/>, <see cref="Shed"/>, <see cref="Exhausted"/> and <see cref="Pauses"/> count what happened.</para>
/// <para><b>Ownership.</b> The loop owns the listener: <see cref="Stop"/> (graceful shutdown: no new
/// connections) and <see cref="Dispose"/> close it. Not thread-safe: the Poll's loop thread owns it (the counters
/// may be read from any thread).</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Listener = (Token)0, AcceptRetry = (Token)1;
/// using var poll = new Poll();
/// using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 9000)), Listener, AcceptRetry);
/// var connections = new ConnectionTable&lt;TcpStream&gt;(firstToken: (Token)16);
/// var events = new Events(256);
/// while (true)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         switch (ev.Token)
///         {
///             case Listener or AcceptRetry:
///                 while (accept.TryAccept(out TcpStream? stream))
///                 {
///                     poll.Registry.Register(stream, connections.Add(stream), Interest.Readable);
///                 }
///                 break;
///             default:
///                 if (connections.TryGet(ev.Token, out TcpStream? connection)) { /* read, write, close */ }
///                 break;
///         }
///     }
/// }
/// </code>
/// </example>
public sealed class AcceptLoop : IDisposable
{
    private static readonly TimeSpan MinRetryDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly Registry _registry;
    private readonly ISource _listener;
    private readonly SafeHandle _listenerHandle;
    private readonly int _listenerFd;
    private readonly AddressFamily _family;
    private readonly bool _isUnix;
    private readonly Trigger _trigger;
    private readonly AcceptExhaustionRemedy _remedy;
    private readonly TimeSpan _retryDelay;
    private readonly TimerSource _retry;
    private readonly int? _descriptorHeadroom;
    private int _maxConnections = int.MaxValue;
    private bool _capCounted;
    private long _closed;
    private int _reserveFd = -1;
    private bool _registered;
    private bool _paused;
    private bool _retrySoon;
    private bool _stopped;
    private bool _disposed;
    private long _accepted;
    private long _shed;
    private long _exhausted;
    private long _pauses;

    /// <summary>Takes over <paramref name="listener"/>, registers it and the retry timer, and prepares the exhaustion remedy.</summary>
    /// <param name="registry">The Poll's registry; the loop that waits on it calls <see cref="TryAccept(out TcpStream)"/>.</param>
    /// <param name="listener">A bound, unregistered listener; the accept loop owns it from now on.</param>
    /// <param name="listenerToken">The token of the listener's readable events.</param>
    /// <param name="retryToken">The token of the retry timer's events (after a pause); handle it like <paramref name="listenerToken"/>.</param>
    /// <param name="options">Trigger, remedy and retry delay; <see langword="null"/> for <see cref="AcceptLoopOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> or <paramref name="listener"/> is null.</exception>
    /// <exception cref="ArgumentException">The tokens are equal, or the trigger is not exactly Edge or Level (Oneshot is not supported).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="AcceptLoopOptions.RetryDelay"/> is outside 1 ms .. 1 min.</exception>
    /// <exception cref="InvalidOperationException">The listener is already registered.</exception>
    /// <exception cref="IOException">The reserve descriptor or the timer could not be created.</exception>
    public AcceptLoop(Registry registry, TcpListener listener, Token listenerToken, Token retryToken, AcceptLoopOptions? options = null)
        : this(registry, listener, listener?.Handle, listener?.LocalEndPoint, listener?.AddressFamily ?? AddressFamily.Unknown, isUnix: false, listenerToken, retryToken, options)
    {
    }

    /// <summary>As the <see cref="TcpListener"/> constructor, for a <see cref="UnixListener"/>; accept with <see cref="TryAccept(out UnixStream)"/>.</summary>
    /// <param name="registry">The Poll's registry.</param>
    /// <param name="listener">A bound, unregistered Unix listener; the accept loop owns it from now on.</param>
    /// <param name="listenerToken">The token of the listener's readable events.</param>
    /// <param name="retryToken">The token of the retry timer's events.</param>
    /// <param name="options">Trigger, remedy and retry delay; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> or <paramref name="listener"/> is null.</exception>
    /// <exception cref="ArgumentException">The tokens are equal, or the trigger is not exactly Edge or Level.</exception>
    /// <exception cref="InvalidOperationException">The listener is already registered.</exception>
    public AcceptLoop(Registry registry, UnixListener listener, Token listenerToken, Token retryToken, AcceptLoopOptions? options = null)
        : this(registry, listener, listener?.Handle, listener?.LocalEndPoint, AddressFamily.Unix, isUnix: true, listenerToken, retryToken, options)
    {
    }

    private AcceptLoop(Registry registry, ISource? listener, SafeHandle? handle, System.Net.EndPoint? localEndPoint, AddressFamily family, bool isUnix,
        Token listenerToken, Token retryToken, AcceptLoopOptions? options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(listener);
        options ??= AcceptLoopOptions.Default;
        if (listenerToken == retryToken)
        {
            throw new ArgumentException(
                $"The listener and the retry timer need different tokens (both are {(ulong)listenerToken}); reserve two tokens below your connection tokens.",
                nameof(retryToken));
        }

        if (options.Trigger is not (Trigger.Edge or Trigger.Level))
        {
            throw new ArgumentException(
                $"An AcceptLoop registers its listener with Trigger.Edge or Trigger.Level, not '{options.Trigger}': accepting until would-block needs a trigger that reports again.",
                nameof(options));
        }

        if (options.DescriptorHeadroom is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.DescriptorHeadroom,
                "AcceptLoopOptions.DescriptorHeadroom must be 0 or more (AcceptLoopOptions.SignalHeadroom, 4, is enough for the runtime's signal thread), or null for no cap.");
        }

        if (options.RetryDelay < MinRetryDelay || options.RetryDelay > MaxRetryDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RetryDelay,
                "AcceptLoopOptions.RetryDelay must be between 1 ms and 1 minute (100 ms is a good default).");
        }

        _registry = registry;
        _listener = listener;
        LocalEndPoint = localEndPoint!;
        _listenerHandle = handle!;
        _listenerFd = (int)handle!.DangerousGetHandle();
        _family = family;
        _isUnix = isUnix;
        ListenerToken = listenerToken;
        RetryToken = retryToken;
        _trigger = options.Trigger;
        _remedy = options.Remedy;
        _retryDelay = options.RetryDelay;
        _descriptorHeadroom = options.DescriptorHeadroom;
        _retry = new TimerSource();
        try
        {
            registry.Register(_retry, retryToken, Interest.Readable, Trigger.Edge);
            registry.Register(listener, listenerToken, Interest.Readable, _trigger);
            _registered = true;
            PrepareErrorPath();
        }
        catch
        {
            if (_registered)
            {
                registry.Deregister(listener);
            }

            Release();
            _retry.Dispose();
            throw;
        }
    }

    /// <summary>Closes the reserve descriptor of a loop that was never disposed.</summary>
    ~AcceptLoop() => Release();

    /// <summary>
    /// Where the listener listens (an <see cref="System.Net.IPEndPoint"/> or a
    /// <see cref="UnixDomainSocketEndPoint"/>), read once at construction: with port 0 it tells the port chosen.
    /// </summary>
    public System.Net.EndPoint LocalEndPoint { get; }

    /// <summary>The token the listener is registered under.</summary>
    public Token ListenerToken { get; }

    /// <summary>The token the retry timer is registered under.</summary>
    public Token RetryToken { get; }

    /// <summary>Connections handed out by <c>TryAccept</c>.</summary>
    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>
    /// Connections accepted and closed at once: because descriptors had run out
    /// (<see cref="AcceptExhaustionRemedy.ShedWithReserve"/>), or because <see cref="MaxConnections"/> were held.
    /// </summary>
    public long Shed => Volatile.Read(ref _shed);

    /// <summary>
    /// The most connections the loop hands out at once (<see cref="AcceptLoopOptions.DescriptorHeadroom"/>): set at
    /// the first <c>TryAccept</c>; <see cref="int.MaxValue"/> without a headroom, or before that.
    /// </summary>
    public int MaxConnections => _maxConnections;

    /// <summary>Connections handed out by <c>TryAccept</c> and not yet reported closed through <see cref="ConnectionClosed"/>.</summary>
    public long OpenConnections => Volatile.Read(ref _accepted) - Volatile.Read(ref _closed);

    /// <summary>How many times <c>accept</c> failed for want of descriptors or kernel memory.</summary>
    public long Exhausted => Volatile.Read(ref _exhausted);

    /// <summary>How many times the loop stopped listening to retry on its timer.</summary>
    public long Pauses => Volatile.Read(ref _pauses);

    /// <summary><see langword="true"/> while the loop waits for its retry timer instead of listening.</summary>
    public bool IsPaused => _paused;

    /// <summary><see langword="true"/> once <see cref="Stop"/> or <see cref="Dispose"/> ran: no more connections.</summary>
    public bool IsStopped => _stopped;

    /// <summary>
    /// Accepts one waiting TCP connection, or returns <see langword="false"/> when there is none for now (the
    /// kernel said would-block, the loop is paused after exhaustion, or it is stopped). Call it on every event for
    /// <see cref="ListenerToken"/> or <see cref="RetryToken"/> until it returns <see langword="false"/>.
    /// Allocates only the new stream; never throws for exhaustion or for a connection that died in the backlog.
    /// </summary>
    /// <param name="stream">The accepted connection (non-blocking, close-on-exec, not registered).</param>
    /// <exception cref="InvalidOperationException">The loop was built for a <see cref="UnixListener"/>.</exception>
    /// <exception cref="SocketException">The listener itself failed (not exhaustion), e.g. it is no longer listening.</exception>
    public bool TryAccept([MaybeNullWhen(false)] out TcpStream stream)
    {
        if (_isUnix)
        {
            throw new InvalidOperationException("This AcceptLoop accepts from a UnixListener: call TryAccept(out UnixStream).");
        }

        if (!TryAcceptFd(out int fd))
        {
            stream = null;
            return false;
        }

        stream = new TcpStream(AcceptCalls.Adopt(fd), _family);
        return true;
    }

    /// <summary>As <see cref="TryAccept(out TcpStream)"/>, for a loop built on a <see cref="UnixListener"/>.</summary>
    /// <param name="stream">The accepted connection (non-blocking, close-on-exec, not registered).</param>
    /// <exception cref="InvalidOperationException">The loop was built for a <see cref="TcpListener"/>.</exception>
    /// <exception cref="SocketException">The listener itself failed (not exhaustion).</exception>
    public bool TryAccept([MaybeNullWhen(false)] out UnixStream stream)
    {
        if (!_isUnix)
        {
            throw new InvalidOperationException("This AcceptLoop accepts from a TcpListener: call TryAccept(out TcpStream).");
        }

        if (!TryAcceptFd(out int fd))
        {
            stream = null;
            return false;
        }

        stream = new UnixStream(AcceptCalls.Adopt(fd));
        return true;
    }

    /// <summary>
    /// Tells the loop that a descriptor was freed (call it once for every connection you close: with
    /// <see cref="AcceptLoopOptions.DescriptorHeadroom"/> it is how the loop counts what it holds). If the loop is paused
    /// for want of descriptors it retries within a millisecond instead of waiting out
    /// <see cref="AcceptLoopOptions.RetryDelay"/>, so a backlog is served as fast as connections close. Costs
    /// nothing while the loop is not paused, and one timer update per pause otherwise.
    /// </summary>
    public void ConnectionClosed()
    {
        if (_closed < _accepted)
        {
            _closed++;
        }

        if (_paused && !_retrySoon && !_stopped)
        {
            _retrySoon = true;
            _retry.SetOnce(MinRetryDelay);
        }
    }

    /// <summary>
    /// Stops accepting for good (the first step of a graceful shutdown): deregisters and closes the listener, so
    /// new clients are refused by the kernel, and cancels the retry timer. Connections already accepted are not
    /// touched. Idempotent.
    /// </summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _paused = false;
        _retrySoon = false;
        if (!_disposed)
        {
            _retry.Cancel();
        }

        ((IDisposable)_listener).Dispose(); // closing also removes it from the Poll
        _registered = false;
    }

    /// <summary><see cref="Stop"/>, then closes the retry timer and the reserve descriptor. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Stop();
        _disposed = true;
        _retry.Dispose();
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Returns e.g. <c>AcceptLoop(accepted 12, shed 0, exhausted 0, listening)</c>.</summary>
    public override string ToString() =>
        $"AcceptLoop(accepted {Accepted}, shed {Shed}, exhausted {Exhausted}, {(_stopped ? "stopped" : _paused ? "paused" : "listening")})";

    private bool TryAcceptFd(out int fd)
    {
        fd = -1;
        if (_stopped)
        {
            return false;
        }

        if (_paused && !Resume())
        {
            return false;
        }

        if (!_capCounted)
        {
            CountCap();
        }

        while (true)
        {
            int errno = AcceptCalls.Accept(_listenerHandle, out fd);
            if (errno == 0)
            {
                if (_accepted - _closed >= _maxConnections)
                {
                    AcceptCalls.Close(fd); // the cap: shed, as at the limit, and keep the headroom free
                    _shed++;
                    continue;
                }

                _accepted++;
                return true;
            }

            if (errno == Errno.EAGAIN)
            {
                _registry.Rearm(_listenerFd, Interest.Readable);
                return false;
            }

            if (AcceptCalls.IsConnectionError(errno))
            {
                continue; // that client is gone already: take the next one
            }

            if (AcceptCalls.IsOutOfDescriptors(errno))
            {
                _exhausted++;
                if (_remedy != AcceptExhaustionRemedy.ShedWithReserve || !ShedBacklog())
                {
                    Pause();
                }

                return false;
            }

            if (AcceptCalls.IsOutOfMemory(errno))
            {
                _exhausted++;
                Pause();
                return false;
            }

            throw SocketErrors.Exception(errno, $"accept a connection on {_listener}");
        }
    }

    /// <summary>
    /// The reserve-descriptor trick: give up the spare so that one <c>accept</c> can succeed, accept and close
    /// every waiting connection until would-block, take the spare back. <see langword="false"/> if that did not
    /// work out (no spare, or the freed number was taken meanwhile): then pause.
    /// </summary>
    private bool ShedBacklog()
    {
        if (_reserveFd < 0)
        {
            return false;
        }

        AcceptCalls.Close(_reserveFd);
        _reserveFd = -1;
        bool drained = false;
        while (true)
        {
            int errno = AcceptCalls.Accept(_listenerHandle, out int fd);
            if (errno == 0)
            {
                AcceptCalls.Close(fd);
                _shed++;
                continue;
            }

            if (errno == Errno.EAGAIN)
            {
                _registry.Rearm(_listenerFd, Interest.Readable);
                drained = true;
                break;
            }

            if (!AcceptCalls.IsConnectionError(errno))
            {
                break;
            }
        }

        _reserveFd = AcceptCalls.OpenReserve();
        return drained && _reserveFd >= 0;
    }

    /// <summary>
    /// Sets <see cref="MaxConnections"/> from the headroom, once: the soft descriptor limit less the descriptors open
    /// now, less the headroom, plus the connections already held; at least one (as redis), so that a server whose
    /// start-up ate into the headroom still serves. The only place that opens a descriptor (two, for a moment); if
    /// even that fails the cap is that minimum.
    /// </summary>
    private void CountCap()
    {
        _capCounted = true;
        if (_descriptorHeadroom is not int headroom)
        {
            return;
        }

        long held = _accepted - _closed;
        long free;
        try
        {
            free = DescriptorBudget.Free();
        }
        catch (IOException)
        {
            free = 0;
        }

        _maxConnections = (int)Math.Clamp(held + free - headroom, Math.Max(held, 1), int.MaxValue);
    }

    /// <summary>Stops listening (so neither edge nor level triggering can spin) and arms the retry timer.</summary>
    private void Pause()
    {
        _paused = true;
        _pauses++;
        if (_registered)
        {
            _registry.Deregister(_listener);
            _registered = false;
        }

        _retry.SetOnce(_retryDelay);
    }

    /// <summary>On a retry event: listens again (and takes the reserve back) once the timer expired; otherwise stays paused.</summary>
    private bool Resume()
    {
        bool expired = false;
        while (_retry.TryReadExpirations(out _))
        {
            expired = true; // read until would-block, so the timer is armed afresh on every backend
        }

        if (!expired)
        {
            return false;
        }

        _paused = false;
        _retrySoon = false;
        if (_remedy == AcceptExhaustionRemedy.ShedWithReserve && _reserveFd < 0)
        {
            _reserveFd = AcceptCalls.OpenReserve();
        }

        _registry.Register(_listener, ListenerToken, Interest.Readable, _trigger);
        _registered = true;
        return true;
    }

    /// <summary>
    /// Makes the error path ready while descriptors are plentiful: the reserve descriptor, the P/Invoke stubs of
    /// open/close, the timer and registry calls, and the code of the methods that run only at exhaustion.
    /// </summary>
    private void PrepareErrorPath()
    {
        int probe = AcceptCalls.OpenReserve();
        if (probe < 0)
        {
            throw new IOException($"Could not open /dev/null for the AcceptLoop's reserve descriptor (errno {Errno.Last}): the process is already out of descriptors.");
        }

        AcceptCalls.Close(probe);
        if (_remedy == AcceptExhaustionRemedy.ShedWithReserve)
        {
            _reserveFd = AcceptCalls.OpenReserve();
        }

        _retry.SetOnce(MaxRetryDelay);
        _retry.Cancel();
        _ = _retry.TryReadExpirations(out _);
        _registry.Deregister(_listener);
        _registry.Register(_listener, ListenerToken, Interest.Readable, _trigger);
        _ = AcceptCalls.IsConnectionError(0) || AcceptCalls.IsOutOfDescriptors(0) || AcceptCalls.IsOutOfMemory(0);
        // The streams this loop hands out name System.Net.Sockets types (SocketShutdown, UnixDomainSocketEndPoint)
        // in their signatures and error messages: load that assembly now, not at the first shutdown or reset.
        _ = typeof(SocketShutdown).Assembly;
        Warmup.PrepareMethods(typeof(AcceptLoop));
    }

    private void Release()
    {
        if (_reserveFd >= 0)
        {
            AcceptCalls.Close(_reserveFd);
            _reserveFd = -1;
        }
    }
}
