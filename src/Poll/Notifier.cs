using Polling.Os;

namespace Polling;

/// <summary>
/// The readiness half of a source whose data lives in memory (a channel, pending signals): one eventfd,
/// registered under the owner's token, written when producers add data and reset when the consumer
/// finds nothing. Producers' notifications coalesce, and no notification is ever lost.
/// </summary>
/// <remarks>
/// <para><b>The protocol.</b> <see cref="_state"/> is <see cref="Armed"/> when the consumer has found
/// the data empty and needs an eventfd write to learn of new data, and <see cref="Notified"/> when a write
/// is already on its way (or the consumer is still busy), so that producers need not write.</para>
/// <list type="number">
/// <item>A producer publishes its data, then calls <see cref="Notify"/>: full fence, read the state,
/// and only if it is <see cref="Armed"/> and this producer wins the exchange to <see cref="Notified"/>,
/// write the eventfd. A burst of writes therefore costs one eventfd write per time the consumer ran dry.</item>
/// <item>The consumer takes data until it finds none, then calls <see cref="Arm"/> (exchange to
/// <see cref="Armed"/>, a full fence) and <b>looks at the data once more</b>; data found then is returned at
/// no cost (in a burst this is the common case). If a notification was still pending (the eventfd readable and
/// never reset since), the consumer then <see cref="Disarm"/>s, so producers keep not writing while it drains;
/// otherwise the producer that published the data has written, or is writing, the eventfd.
/// Only if it still finds nothing, and a notification was sent, does it arm again, <see cref="Reset"/> the
/// eventfd and look a last time; if that look finds data it calls <see cref="KeepReady"/>, so that a Level
/// registration keeps reporting data that is still there. Then it <see cref="Rearm"/>s and reports empty.</item>
/// </list>
/// <para>Why nothing is lost: the producer's "publish, fence, read state" and the consumer's "write state,
/// fence, look again" are a Dekker pair, so at least one of them sees the other's write. Either the
/// consumer's second look finds the data, or the producer sees <see cref="Armed"/> and writes the eventfd
/// after the consumer's reset, which the kernel then reports. A reset can swallow a producer's write only
/// if that write came before the reset, and then that producer's data came before the second look too.</para>
/// <para>Invariant: whenever the data is non-empty (or the owner's end state is reached), the eventfd
/// counter is non-zero or about to be, so epoll's own re-evaluation on <c>Reregister</c> and Level triggering
/// report it without help. A spurious event (counter set, data already taken) can happen in a race; the
/// contract allows it.</para>
/// </remarks>
internal sealed class Notifier : IDisposable
{
    private const int Notified = 0;
    private const int Armed = 1;

    private readonly FdHandle _eventFd;
    private readonly object _owner;
    private Registration _registration;
    private int _state = Armed;
    private long _writes;
    private int _disposed;

    /// <summary>Creates the eventfd; <paramref name="owner"/> names the source in messages.</summary>
    public Notifier(object owner)
    {
        _owner = owner;
        _eventFd = EventFd.Create();
    }

    /// <summary>How many times the eventfd was written: the real cost of all notifications so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary><see langword="true"/> once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary><see langword="true"/> while registered with a Poll that is not disposed.</summary>
    public bool IsRegistered => _registration.Registry is { IsDisposed: false };

    /// <summary>
    /// Producer side, after publishing data: makes sure the consumer will get an event. Thread-safe,
    /// allocation-free, and usually just a fence and a read. Does nothing once disposed.
    /// </summary>
    public void Notify()
    {
        // The fence orders the caller's publication before the read of _state (see the remarks).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _state) == Armed && Interlocked.Exchange(ref _state, Notified) == Armed)
        {
            Write();
        }
    }

    /// <summary>
    /// Consumer side, after finding no data: asks for a notification of the next data (a full fence, no system
    /// call). Returns <see langword="true"/> if a notification had been sent since the last arm, so the eventfd
    /// may be readable. The caller must look at its data again afterwards.
    /// </summary>
    public bool Arm() => Interlocked.Exchange(ref _state, Armed) == Notified;

    /// <summary>
    /// Consumer side, when the look after an <see cref="Arm"/> that returned <see langword="true"/> found data: the
    /// eventfd is still readable from that notification, so producers need not write it again while the
    /// consumer keeps draining. Leaves the state alone if a producer has flipped it meanwhile.
    /// </summary>
    public void Disarm() => Interlocked.CompareExchange(ref _state, Notified, Armed);

    /// <summary>Consumer side, after <see cref="Arm"/>: empties the eventfd (one read). The caller must look at its data again afterwards.</summary>
    public void Reset() => EventFd.TryRead(_eventFd, out _);

    /// <summary>Consumer side, when reporting "empty": tells an edge-emulating backend that the source would block.</summary>
    public void Rearm() => _registration.Rearm(_eventFd.Fd, Interest.Readable);

    /// <summary>Consumer side: data is (still) there, so keep the eventfd readable.</summary>
    public void KeepReady()
    {
        Interlocked.Exchange(ref _state, Notified);
        Write();
    }

    /// <summary>
    /// Consumer side, when the source reached its final state (e.g. a completed channel): makes the eventfd
    /// readable for good, writing it only if no notification is outstanding, so Edge sees no extra event.
    /// </summary>
    public void StayReady()
    {
        if (Interlocked.Exchange(ref _state, Notified) == Armed)
        {
            Write();
        }
    }

    /// <summary><see cref="ISource.Register"/> for the owner: Readable is the only interest an eventfd can honour.</summary>
    public void Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ValidateInterest(interest);
        ThrowIfDisposed("register");
        _registration.Register(registry, _eventFd.Fd, token, interest, trigger, _owner);
    }

    /// <summary><see cref="ISource.Reregister"/> for the owner.</summary>
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ValidateInterest(interest);
        ThrowIfDisposed("reregister");
        _registration.Reregister(registry, _eventFd.Fd, token, interest, trigger, _owner);
    }

    /// <summary><see cref="ISource.Deregister"/> for the owner.</summary>
    public void Deregister(Registry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ThrowIfDisposed("deregister");
        _registration.Deregister(registry, _eventFd.Fd, _owner);
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the owner once disposed.</summary>
    public void ThrowIfDisposed(string action)
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(_owner.GetType().Name, $"Cannot {action} {_owner}: it has been disposed. Create a new one.");
        }
    }

    /// <summary>Deregisters and closes the eventfd, once. Later notifications do nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.OnClose(_eventFd.Fd);
        _eventFd.Dispose();
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="interest"/> is exactly Readable.</summary>
    public void ValidateInterest(Interest interest)
    {
        if (interest != Interest.Readable)
        {
            throw new ArgumentException(
                $"{_owner} can only become readable; register it with Interest.Readable, not '{interest}'.",
                nameof(interest));
        }
    }

    private void Write()
    {
        int errno;
        try
        {
            errno = EventFd.TryWrite(_eventFd, 1);
            if (errno == Errno.EAGAIN)
            {
                // The counter is saturated (after ~2^64 writes without a reset): reset it, then write again.
                EventFd.TryRead(_eventFd, out _);
                errno = EventFd.TryWrite(_eventFd, 1);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: nobody is listening any more, so there is nobody to wake.
            return;
        }

        if (errno != 0)
        {
            throw Errno.ToIOException(errno, $"write to the eventfd of {_owner}");
        }

        Interlocked.Increment(ref _writes);
        _registration.Rearm(_eventFd.Fd, Interest.Readable);
    }
}
