namespace Polling.Net;

/// <summary>
/// Per-connection idle deadlines on one <see cref="TimerWheel"/>: <see cref="Start(Token)"/> when a connection is
/// accepted, <see cref="Restart(ref TimerKey, Token)"/> when it makes progress, <see cref="Cancel"/> when it closes, and on the wheel's
/// event <see cref="TakeExpired"/> hands back the tokens of connections that were quiet for
/// <see cref="Timeout"/> — close them. Allocation-free once the wheel has grown; thousands of connections share
/// one descriptor and one event.
/// </summary>
/// <remarks>
/// <para><b>Slow clients (slowloris).</b> What counts as progress is yours to say. Restart on every read and a
/// client that trickles one byte a second is never idle; restart only when a whole request has arrived (and on
/// writes the peer accepts) and a client that takes longer than <see cref="Timeout"/> to send one request is
/// closed however slowly it trickles. For a separate bound (e.g. "headers within 10 s"), pass a delay to
/// <see cref="Start(Token, TimeSpan)"/>/<see cref="Restart(ref TimerKey, Token, TimeSpan)"/>.</para>
/// <para><b>Stale expiries.</b> Tokens come back as they were scheduled; look them up in a
/// <see cref="ConnectionTable{T}"/>, whose generations make a token of a connection that closed meanwhile miss
/// (even if its slot was reused). Register the timeouts (they are an <see cref="ISource"/>) with
/// <see cref="Interest.Readable"/>. Not thread-safe: the loop thread owns them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Timeouts = (Token)2;
/// using var idle = new IdleTimeouts(TimeSpan.FromSeconds(30));
/// poll.Registry.Register(idle, Timeouts, Interest.Readable);
/// // accept:            connection.Idle = idle.Start(token);
/// // a request arrived: idle.Restart(ref connection.Idle, token);
/// // close:             idle.Cancel(connection.Idle);
/// var connections = new Dictionary&lt;Token, Connection&gt;();
/// Token[] expired = new Token[64];
/// // in the event loop, on the timeouts' event:
/// foreach (Event ev in events)
/// {
///     if (ev.Token != Timeouts) continue;
///     int n;
///     do
///     {
///         n = idle.TakeExpired(expired);
///         foreach (Token t in expired.AsSpan(0, n))
///             if (connections.Remove(t, out Connection? c)) c.Stream.Dispose();
///     }
///     while (n == expired.Length);
/// }
///
/// sealed record Connection(TcpStream Stream);
/// </code>
/// </example>
public sealed class IdleTimeouts : ISource, IDisposable
{
    private readonly TimerWheel _wheel;
    private bool _disposed;

    /// <summary>Creates the timeouts and their wheel.</summary>
    /// <param name="timeout">How long a connection may stay quiet: more than zero, at most <see cref="TimerWheel.MaxDelay"/>.</param>
    /// <param name="capacity">Timeouts to make room for up front (the expected connection count); the wheel doubles when full.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    /// <exception cref="IOException">The kernel refused to create the wheel's timerfd.</exception>
    public IdleTimeouts(TimeSpan timeout, int capacity = 1024)
    {
        if (timeout <= TimeSpan.Zero || timeout > TimerWheel.MaxDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                "An idle timeout must be longer than zero and at most TimerWheel.MaxDelay; e.g. TimeSpan.FromSeconds(30).");
        }

        Timeout = timeout;
        _wheel = new TimerWheel(capacity);
    }

    /// <summary>How long a connection may stay quiet before <see cref="TakeExpired"/> hands back its token.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How many deadlines are running (including expired ones not yet taken).</summary>
    public int Count => _wheel.Count;

    /// <summary>Starts the deadline of a new connection: its token comes back after <see cref="Timeout"/> unless restarted or cancelled.</summary>
    /// <param name="token">The connection's token.</param>
    /// <returns>The key to keep with the connection for <see cref="Restart(ref TimerKey, Token)"/> and <see cref="Cancel"/>.</returns>
    /// <exception cref="ObjectDisposedException">The timeouts are disposed.</exception>
    public TimerKey Start(Token token) => Start(token, Timeout);

    /// <summary>As <see cref="Start(Token)"/> with a delay of its own (e.g. a shorter one for a connection's first request).</summary>
    /// <param name="token">The connection's token.</param>
    /// <param name="timeout">From now; zero to <see cref="TimerWheel.MaxDelay"/>.</param>
    /// <returns>The key for <see cref="Restart(ref TimerKey, Token)"/> and <see cref="Cancel"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or too long.</exception>
    public TimerKey Start(Token token, TimeSpan timeout)
    {
        ThrowIfDisposed("start a deadline on");
        return _wheel.Schedule(token, timeout);
    }

    /// <summary>
    /// The connection made progress: its deadline moves to <see cref="Timeout"/> from now. If the key is stale
    /// (it expired and was taken, or was cancelled) a new deadline starts and <paramref name="key"/> is updated.
    /// </summary>
    /// <param name="key">The connection's key, updated when a new deadline had to start.</param>
    /// <param name="token">The connection's token (used when a new deadline starts).</param>
    /// <exception cref="ObjectDisposedException">The timeouts are disposed.</exception>
    public void Restart(ref TimerKey key, Token token) => Restart(ref key, token, Timeout);

    /// <summary>As <see cref="Restart(ref TimerKey, Token)"/> with a delay of its own.</summary>
    /// <param name="key">The connection's key.</param>
    /// <param name="token">The connection's token.</param>
    /// <param name="timeout">From now; zero to <see cref="TimerWheel.MaxDelay"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative or too long.</exception>
    public void Restart(ref TimerKey key, Token token, TimeSpan timeout)
    {
        ThrowIfDisposed("restart a deadline on");
        if (!_wheel.Reschedule(key, timeout))
        {
            key = _wheel.Schedule(token, timeout);
        }
    }

    /// <summary>Stops a connection's deadline (on close). <see langword="false"/> if it had expired and been taken already.</summary>
    /// <param name="key">The connection's key.</param>
    /// <exception cref="ObjectDisposedException">The timeouts are disposed.</exception>
    public bool Cancel(TimerKey key)
    {
        ThrowIfDisposed("cancel a deadline on");
        return _wheel.Cancel(key);
    }

    /// <summary>
    /// Moves the tokens of connections whose deadline passed into <paramref name="expired"/> and returns how many;
    /// a full buffer means more may be waiting (call again). Their keys go stale.
    /// </summary>
    /// <param name="expired">A buffer you own; a few dozen entries is plenty.</param>
    /// <exception cref="ArgumentException"><paramref name="expired"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The timeouts are disposed.</exception>
    public int TakeExpired(Span<Token> expired)
    {
        ThrowIfDisposed("take expired deadlines from");
        return _wheel.TakeExpired(expired);
    }

    /// <summary>Closes the wheel (and removes it from its Poll). Idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        _wheel.Dispose();
    }

    /// <summary>Returns e.g. <c>IdleTimeouts(30 s, 12 running)</c>.</summary>
    public override string ToString() => $"IdleTimeouts({Timeout.TotalSeconds:0.###} s, {_wheel.Count} running)";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ThrowIfDisposed("register");
        ((ISource)_wheel).Register(registry, token, interest, trigger);
    }

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ThrowIfDisposed("reregister");
        ((ISource)_wheel).Reregister(registry, token, interest, trigger);
    }

    /// <summary>The wheel would name itself (<c>TimerWheel</c>); the caller holds an <see cref="IdleTimeouts"/>.</summary>
    private void ThrowIfDisposed(string action)
    {
        if (_disposed)
        {
            throw IoSource.Disposed(this, action);
        }
    }

    void ISource.Deregister(Registry registry) => ((ISource)_wheel).Deregister(registry);
}
