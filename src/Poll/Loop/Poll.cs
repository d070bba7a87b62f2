using System.Diagnostics;
using Polling.Os;

namespace Polling;

/// <summary>
/// The event loop's heart: owns the kernel's readiness queue (epoll, or poll(2) — see <see cref="PollBackend"/>), hands out the
/// <see cref="Registry"/> for registering sources, and blocks in <see cref="Wait"/> until some of them
/// are ready. Events come back in a reusable <see cref="Events"/> batch that the caller iterates and
/// switches over — no callbacks, no hidden threads, no allocation per wait.
/// </summary>
/// <remarks>
/// <para><b>Thread safety:</b> one thread at a time calls <see cref="Wait"/> (a second concurrent
/// caller gets <see cref="InvalidOperationException"/>; use one Poll per loop thread). The
/// <see cref="Registry"/> and <see cref="Waker.Wake"/> may be used from any thread meanwhile.
/// <see cref="Dispose"/> may be called from any thread: a <see cref="Wait"/> blocked on another thread
/// then returns by throwing <see cref="ObjectDisposedException"/>.</para>
/// <para>Disposing a Poll closes its own descriptors only (the epoll descriptor, or poll(2)'s internal eventfd);
/// registered sources stay open and usable.</para>
/// <para><b>Backends:</b> <c>new Poll()</c> uses epoll; <c>new Poll(PollBackend.Poll)</c> uses poll(2), which
/// holds the same readiness rules with O(registered sources) waits and emulated edge triggering. The one
/// difference callers can see: a <see cref="SourceFd"/> registered with <see cref="Trigger.Edge"/> is reported
/// level-triggered on the poll(2) backend (see <see cref="PollBackend"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Server = (Token)0;
/// using var poll = new Poll();
/// using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 9000));
/// poll.Registry.Register(listener, Server, Interest.Readable);
/// var events = new Events(256);
/// while (true)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         switch (ev.Token)
///         {
///             case Server:
///                 while (listener.TryAccept(out TcpStream stream)) { /* register it */ }
///                 break;
///         }
///     }
/// }
/// </code>
/// </example>
public sealed class Poll : IDisposable
{
    private readonly ISelector _selector;
    private int _waiting;
    private int _disposed;

    /// <summary>Creates a Poll on a new epoll descriptor (close-on-exec); the same as <c>new Poll(PollBackend.Epoll)</c>.</summary>
    /// <exception cref="IOException">The kernel refused (e.g. the descriptor limit was reached).</exception>
    public Poll()
        : this(PollBackend.Epoll)
    {
    }

    /// <summary>Creates a Poll that waits with <paramref name="backend"/>: epoll (the default) or poll(2).</summary>
    /// <param name="backend">The kernel mechanism; see <see cref="PollBackend"/> for what differs.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backend"/> is not a defined <see cref="PollBackend"/>.</exception>
    /// <exception cref="IOException">The kernel refused (e.g. the descriptor limit was reached).</exception>
    public Poll(PollBackend backend)
        : this(CreateSelector(backend), backend)
    {
    }

    internal Poll(ISelector selector, PollBackend backend)
    {
        _selector = selector;
        Backend = backend;
        Registry = new Registry(this, selector);
    }

    /// <summary>Registers, reregisters and deregisters sources; usable from any thread.</summary>
    public Registry Registry { get; }

    /// <summary>The kernel mechanism this Poll waits with.</summary>
    public PollBackend Backend { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Clears <paramref name="events"/>, then blocks until at least one registered source is ready or the
    /// timeout passes, and fills <paramref name="events"/> with up to <see cref="Events.Capacity"/> events.
    /// </summary>
    /// <param name="events">The batch to fill; reuse one per loop.</param>
    /// <param name="timeout"><see langword="null"/> (or <see cref="Timeout.InfiniteTimeSpan"/>) waits forever;
    /// <see cref="TimeSpan.Zero"/> does not block; anything else is rounded <i>up</i> to whole milliseconds,
    /// so a 0.5 ms timeout blocks for up to 1 ms rather than spinning. A timeout longer than the kernel's limit
    /// (<see cref="int.MaxValue"/> ms, about 24.8 days) is honoured in full: the wait is repeated until the deadline, as
    /// <c>Task.Delay</c> honours long delays. <see cref="TimeSpan.MaxValue"/> means forever, like <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <returns>The number of events, <c>events.Count</c>: 0 after a timeout or a wait interrupted by a signal (EINTR).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite).</exception>
    /// <exception cref="InvalidOperationException">Another thread is already waiting on this Poll.</exception>
    /// <exception cref="ObjectDisposedException">The Poll is, or became during the wait, disposed.</exception>
    public int Wait(Events events, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        long milliseconds = ToMilliseconds(timeout);
        if (Interlocked.CompareExchange(ref _waiting, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                "Another thread is already waiting on this Poll. One thread at a time may call Wait; give each loop thread its own Poll.");
        }

        try
        {
            events.Clear();
            ThrowIfDisposed();
            int count = milliseconds <= MaxChunkMilliseconds
                ? _selector.Select(events, (int)milliseconds)
                : SelectLong(events, milliseconds);
            if (IsDisposed)
            {
                events.Clear();
                ThrowIfDisposed();
            }

            return count;
        }
        finally
        {
            Volatile.Write(ref _waiting, 0);
        }
    }

    /// <summary>
    /// Closes the backend's descriptors (once; later calls do nothing). A <see cref="Wait"/> blocked on another
    /// thread is woken and throws <see cref="ObjectDisposedException"/>. Registered sources stay open.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Paired with the CompareExchange in Wait: either the waiter sees _disposed, or we see _waiting.
        if (Volatile.Read(ref _waiting) != 0)
        {
            _selector.Interrupt();
        }

        _selector.Dispose();
    }

    private static ISelector CreateSelector(PollBackend backend) => backend switch
    {
        PollBackend.Epoll => new EpollSelector(),
        PollBackend.Poll => new PollSelector(),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend,
            $"'{backend}' is not a Polling backend; pass PollBackend.Epoll (the default) or PollBackend.Poll."),
    };

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(nameof(Poll), "This Poll has been disposed; create a new one to wait for events.");
        }
    }

    /// <summary>
    /// A wait longer than the kernel's <c>int</c> milliseconds (~24.8 days): waits in chunks until the deadline.
    /// A chunk that returns no event before its own timeout was interrupted (EINTR) and returns 0, as any wait does.
    /// </summary>
    private int SelectLong(Events events, long milliseconds)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            long remaining = milliseconds - (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            int chunk = (int)Math.Clamp(remaining, 0, MaxChunkMilliseconds);
            long chunkStart = Stopwatch.GetTimestamp();
            int count = _selector.Select(events, chunk);
            if (count > 0 || remaining <= chunk || IsDisposed || Stopwatch.GetElapsedTime(chunkStart).TotalMilliseconds < chunk)
            {
                return count;
            }
        }
    }

    /// <summary>The longest single kernel wait: epoll_wait and poll take an <c>int</c> of milliseconds. Tests lower it.</summary>
    internal int MaxChunkMilliseconds { get; set; } = int.MaxValue;

    private static long ToMilliseconds(TimeSpan? timeout)
    {
        if (timeout is not { } value || value == Timeout.InfiniteTimeSpan || value == TimeSpan.MaxValue)
        {
            return -1;
        }

        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), value,
                "A wait timeout cannot be negative; pass TimeSpan.Zero to poll without blocking, or null to wait forever.");
        }

        // Round up: a sub-millisecond timeout must block (for 1 ms), not turn into a busy poll.
        return value.Ticks / TimeSpan.TicksPerMillisecond + (value.Ticks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1);
    }
}
