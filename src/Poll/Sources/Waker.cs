using Polling.Os;

namespace Polling;

/// <summary>
/// Wakes a <see cref="Poll.Wait"/> from another thread: <see cref="Wake"/> makes the blocked (or the next)
/// wait return an event carrying this waker's token. Backed by one <c>eventfd</c>, registered
/// edge-triggered and readable when the waker is created.
/// </summary>
/// <remarks>
/// <para><b>Thread safety:</b> <see cref="Wake"/> may be called from any thread, any number of times.
/// Wakes coalesce: many wakes before a wait may produce a single event, so pair the waker with a
/// queue and drain the whole queue on each event (or use a channel source, which does exactly that).</para>
/// <para>The waker needs no reading or rearming after an event. <see cref="Dispose"/> deregisters it and
/// closes the descriptor; a disposed waker produces no further events and <see cref="Wake"/> throws
/// <see cref="ObjectDisposedException"/>.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token WakeToken = (Token)10;
/// using var poll = new Poll();
/// using var waker = new Waker(poll.Registry, WakeToken);
/// var queue = new ConcurrentQueue&lt;string&gt;();
///
/// new Thread(() => { queue.Enqueue("hello"); waker.Wake(); }).Start();
///
/// var events = new Events(16);
/// poll.Wait(events);
/// foreach (Event ev in events)
///     if (ev.Token == WakeToken)
///         while (queue.TryDequeue(out string? message)) Console.WriteLine(message);
/// </code>
/// </example>
public sealed class Waker : IDisposable
{
    private IoSource _io;

    /// <summary>Creates a waker and registers it with <paramref name="registry"/> under <paramref name="token"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The registry's Poll is disposed.</exception>
    /// <exception cref="IOException">The kernel refused to create the eventfd.</exception>
    public Waker(Registry registry, Token token)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Token = token;
        _io = new IoSource(EventFd.Create());
        try
        {
            _io.Register(registry, token, Interest.Readable, Trigger.Edge, this);
        }
        catch
        {
            _io.Close();
            throw;
        }
    }

    /// <summary>The eventfd, for tests that check Dispose closed it.</summary>
    internal FdHandle Handle => _io.Handle;

    /// <summary>The token this waker's events carry.</summary>
    public Token Token { get; }

    /// <summary>Makes a blocked or the next <see cref="Poll.Wait"/> return an event for <see cref="Token"/>. Thread-safe; allocates nothing.</summary>
    public void Wake()
    {
        int errno = EventFd.Signal(_io.Live(this, "wake"));
        if (errno != 0)
        {
            throw _io.Failure(errno, $"write to the eventfd of {this}");
        }

        // The counter is never read, so a backend that emulates edge triggering must be told.
        _io.Rearm(Interest.Readable);
    }

    /// <summary>Deregisters the waker and closes its eventfd. Idempotent.</summary>
    public void Dispose() => _io.Close();

    /// <summary>Returns <c>Waker(token N)</c>.</summary>
    public override string ToString() => $"Waker(token {(ulong)Token})";
}
