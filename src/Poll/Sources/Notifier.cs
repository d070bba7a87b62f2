using System.Diagnostics.CodeAnalysis;
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
/// <item>The consumer takes data until it finds none, then calls <see cref="TryTakeWhenEmpty"/>: arm
/// (exchange to <see cref="Armed"/>, a full fence) and <b>look once more</b>; data found then is returned at
/// no cost (in a burst this is the common case), disarming if a notification is still pending so producers
/// keep not writing while it drains. If it finds nothing and the eventfd may be readable, it
/// <b>resets the eventfd, then arms again, then looks a last time</b> — in that order — and reports empty
/// (or, if the last look found data, returns it and keeps the eventfd readable for Level).</item>
/// </list>
/// <para>Why nothing is lost: the producer's "publish, fence, read state" and the consumer's "arm (fence),
/// look" are a Dekker pair, so at least one sees the other's write. Either the last look finds the data, or
/// the producer reads the state after the last arm: it (or another producer that flipped the state after
/// that arm) writes the eventfd, and that write comes after the reset, because the reset came before the
/// arm. A reset can only swallow a write whose producer exchanged before the last arm — and that producer
/// published its data before the last look. (The first version reset <i>after</i> its last arm: a producer
/// whose data an earlier look had taken could win the exchange between that arm and the reset, and the reset
/// swallowed its write, leaving the state Notified with a zero counter, so every later producer skipped its
/// write: a lost wake-up. <c>NotifierProtocolTests</c> enumerates every interleaving of one consumer and two
/// producers over both versions.)</para>
/// <para>A producer that exchanged before the last arm may still write after the reset: the counter is then
/// set with no data (a spurious event, which the contract allows). So that a Level registration does not keep
/// reporting it, the next empty look resets whenever a write completed since the last reset
/// (<see cref="Writes"/> moved), not only when a notification was seen.</para>
/// <para>Invariant: whenever the data is non-empty (or the owner's end state is reached), the eventfd
/// counter is non-zero or about to be, so epoll's own re-evaluation on <c>Reregister</c> and Level triggering
/// report it without help.</para>
/// </remarks>
internal sealed class Notifier : IDisposable
{
    private const int Notified = 0;
    private const int Armed = 1;

    private readonly object _owner;
    private IoSource _io;
    private int _state = Armed;
    private long _writes;
    private long _writesAtReset;

    /// <summary>The eventfd, for tests that check Dispose closed it.</summary>
    internal FdHandle Handle => _io.Handle;

    /// <summary>Creates the eventfd; <paramref name="owner"/> names the source in messages.</summary>
    public Notifier(object owner)
    {
        _owner = owner;
        _io = new IoSource(EventFd.Create());
    }

    /// <summary>How many times the eventfd was written: the real cost of all notifications so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary><see langword="true"/> once disposed.</summary>
    public bool IsDisposed => _io.IsDisposed;

    /// <summary><see langword="true"/> while registered with a Poll that is not disposed.</summary>
    public bool IsRegistered => _io.IsRegistered;

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
    /// Consumer side, after <paramref name="pending"/> was found empty: the whole consumer half of the protocol
    /// (see the remarks). Returns <see langword="true"/> with an item if one turned up meanwhile; returns
    /// <see langword="false"/> when the data is empty and the next producer's data will produce an event.
    /// Allocation-free; at most one eventfd read and, only when it returns an item after a reset, one write.
    /// </summary>
    public bool TryTakeWhenEmpty<TPending, TItem>(TPending pending, [MaybeNullWhen(false)] out TItem item)
        where TPending : struct, IPending<TItem>
    {
        // Ask for a wake, then look again: in a burst this look usually finds the next item, and returning it
        // costs no system call (its producer has written, or is writing, the eventfd).
        bool notified = Arm();
        if (pending.TryTake(out item))
        {
            if (notified)
            {
                // The eventfd is still readable from that wake: producers need not write it again while we drain.
                Disarm();
            }

            return true;
        }

        // Really empty. The eventfd may be readable if a wake was sent since the last arm (seen by the arm above,
        // or by a producer flipping the state since), or if a write completed since the last reset (its
        // producer's exchange may have been seen by the last arm of an earlier call). Then reset it so Level
        // goes quiet — and only then arm again and look a last time: the reset cannot swallow the wake of data
        // that this last look does not see.
        long writes = Writes;
        if (notified || Volatile.Read(ref _state) == Notified || writes != _writesAtReset)
        {
            _writesAtReset = writes;
            Reset();
            Arm();
            if (pending.TryTake(out item))
            {
                // The reset may have swallowed the wake for this item and more: stay readable for Level.
                KeepReady();
                return true;
            }
        }

        return false;
    }

    /// <summary>Consumer side, when reporting "empty": tells an edge-emulating backend that the source would block.</summary>
    public void Rearm() => _io.Rearm(Interest.Readable);

    /// <summary>The items a consumer takes from, e.g. a channel's reader; a struct so the protocol allocates nothing.</summary>
    /// <typeparam name="TItem">What one take returns.</typeparam>
    internal interface IPending<TItem>
    {
        /// <summary>Takes one item, or returns <see langword="false"/> if there is none right now.</summary>
        bool TryTake([MaybeNullWhen(false)] out TItem item);
    }

    /// <summary>Arms (a full fence): returns <see langword="true"/> if a notification had been sent since the last arm.</summary>
    private bool Arm() => Interlocked.Exchange(ref _state, Armed) == Notified;

    /// <summary>
    /// When the look after an <see cref="Arm"/> that returned <see langword="true"/> found data: the eventfd is still
    /// readable from that notification, so producers need not write it again while the consumer keeps draining.
    /// Leaves the state alone if a producer has flipped it meanwhile.
    /// </summary>
    private void Disarm() => Interlocked.CompareExchange(ref _state, Notified, Armed);

    /// <summary>Empties the eventfd (one read).</summary>
    private void Reset() => EventFd.TryRead(_io.Handle, out _);

    /// <summary>Data is (still) there, so keep the eventfd readable.</summary>
    private void KeepReady()
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
        ValidateInterest(interest);
        _io.Register(registry, token, interest, trigger, _owner);
    }

    /// <summary><see cref="ISource.Reregister"/> for the owner.</summary>
    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        ValidateInterest(interest);
        _io.Reregister(registry, token, interest, trigger, _owner);
    }

    /// <summary><see cref="ISource.Deregister"/> for the owner.</summary>
    public void Deregister(Registry registry) => _io.Deregister(registry, _owner);

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the owner once disposed.</summary>
    public void ThrowIfDisposed(string action) => _io.ThrowIfDisposed(_owner, action);

    /// <summary>Deregisters and closes the eventfd, once. Later notifications do nothing.</summary>
    public void Dispose() => _io.Close();

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
            errno = EventFd.Signal(_io.Handle);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: nobody is listening any more, so there is nobody to wake.
            return;
        }

        if (errno != 0)
        {
            throw _io.Failure(errno, $"write to the eventfd of {_owner}");
        }

        Interlocked.Increment(ref _writes);
        _io.Rearm(Interest.Readable);
    }
}
