using System.Diagnostics;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Os;

/// <summary>
/// The poll(2) backend. Every registration is one <c>pollfd</c> in an array that is handed to
/// <c>poll</c> as it is, so a wait costs O(registered descriptors) and allocates nothing.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> <c>_fds[0]</c> is an internal eventfd that interrupts a blocked
/// <c>poll</c> when the registration set changes or the Poll is disposed; <c>_fds[1.._count)</c> are
/// the registrations, and <c>_slots[i]</c> holds what the kernel does not (token, interest, trigger, what is
/// armed) for <c>_fds[i]</c>. The array index tells which registration fired, so the internal eventfd
/// needs no reserved token. A registration with nothing armed has a negative <c>fd</c> in its
/// <c>pollfd</c>, which <c>poll</c> skips entirely (so a disarmed hung-up socket does not report
/// POLLHUP on every wait).</para>
/// <para><b>Triggers.</b> Level: always armed. Oneshot: disarmed completely after its event until
/// <see cref="Reregister"/>. Edge: emulated — after an event, the fired direction (read side:
/// POLLIN/POLLRDHUP/POLLPRI; write side: POLLOUT; everything for POLLHUP/POLLERR) is disarmed, and
/// <see cref="Rearm"/> (called by Polling's sources when an I/O call returns would-block, and by
/// <see cref="Waker.Wake"/>) arms it again. If data arrived between the event and the rearm, the next
/// poll sees it at once: a drain followed by new readiness always produces an event. A registration
/// whose source cannot rearm (a <see cref="SourceFd"/>) stays armed under Edge, i.e. it is reported
/// level-triggered — a spurious repeat, never a lost wake-up.</para>
/// <para><b>Threads.</b> The waiting thread holds <c>_gate</c> while it polls, so the arrays never change
/// under the kernel. A registry call from another thread announces itself in <c>_waitingChanges</c>,
/// writes the internal eventfd if the waiter is inside <c>poll</c>, takes the gate (the waiter lets go
/// as soon as <c>poll</c> returns), changes the arrays, and lets the waiter poll again with the new set.
/// The announcement and the waiter's <c>_inPoll</c> flag are each written with a full fence before the
/// other is read, so either the changer sees the waiter in poll (and wakes it), or the waiter sees the
/// announcement (and does not enter poll). A change from the waiting thread itself (a rearm
/// after EAGAIN in the event loop) takes the uncontended gate and makes no system call.</para>
/// <para><b>Errors and hang-ups.</b> poll(2) reports POLLERR and POLLHUP whatever <c>events</c> asks for, as
/// long as the descriptor is in the set, and both make every direction ready (a read and a write return at
/// once). So under Edge such an event disarms every direction it was reported for — all of them; leaving one
/// armed would make every later poll return at once. A <c>Try…</c> that fails (it consumed the pending error,
/// or the caller will retry, as after EMFILE) rearms every direction, and so does <c>TakeError</c>
/// (<see cref="Registration.Complete"/>); a would-block rearms its own direction. So a source is never left
/// silent by an error: the next datagram after an ICMP error, the next connection after an accept that failed
/// at the descriptor limit, are reported.</para>
/// <para><b>Closed and foreign descriptors.</b> <see cref="Register"/> refuses what epoll refuses: a closed
/// descriptor (EBADF) and a regular file or directory (EPERM), checked with <c>fstat</c>, whose device and
/// inode numbers the slot keeps as the descriptor's identity. A descriptor closed while registered (a
/// <see cref="SourceFd"/> whose owner forgot to deregister) reports POLLNVAL: it is dropped silently and
/// disabled. If its number was reused before the next poll, poll(2) would report the new file under the old
/// token; so before a <see cref="SourceFd"/>'s event is reported its identity is checked again (one
/// <c>fstat</c>, only for raw descriptors: Polling's own sources deregister before they close), and a
/// mismatch is treated like POLLNVAL. A new registration of the same number replaces a dropped slot. Limit:
/// anonymous-inode descriptors (eventfd, timerfd, signalfd, epoll) all share one inode, so a number reused
/// by another descriptor of that kind cannot be told apart; epoll has the same blind spot for dup'ed
/// descriptors.</para>
/// </remarks>
internal sealed unsafe class PollSelector : ISelector
{
    private static int ReadSide => (ushort)LibC.POLLIN | (ushort)LibC.POLLPRI | (ushort)LibC.POLLRDHUP;
    private static int WriteSide => LibC.POLLOUT;
    private static int HangUpOrError => (ushort)LibC.POLLERR | (ushort)LibC.POLLHUP;
    private static int Invalid => LibC.POLLNVAL;
    private const int InitialCapacity = 16;

    private readonly object _gate = new();
    private readonly FdHandle _wake;
    private readonly Dictionary<int, int> _indexOfFd = new();
    private pollfd[] _fds;
    private Slot[] _slots;
    private int _count;
    private int _cursor;
    private int _waitingChanges;
    private int _inPoll;
    private int _interrupted;
    private int _disposed;

    public PollSelector()
    {
        _wake = EventFd.Create();
        _fds = new pollfd[InitialCapacity];
        _slots = new Slot[InitialCapacity];
        _fds[0].fd = _wake.Fd;
        _fds[0].events = (short)EpollFlags.In;
        _count = 1;
    }

    public int Register(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock)
    {
        int errno = Identify(fd, out FileIdentity identity);
        if (errno != 0)
        {
            return errno;
        }

        BeginChange();
        try
        {
            if (_indexOfFd.TryGetValue(fd, out int index))
            {
                if (!_slots[index].Closed && _slots[index].Identity == identity)
                {
                    return Errno.EEXIST;
                }

                // The number was closed while registered and has been reused: the new descriptor replaces it.
                Set(index, fd, identity, token, interest, trigger, rearmsOnWouldBlock);
                return 0;
            }

            if (_count == _fds.Length)
            {
                Array.Resize(ref _fds, _fds.Length * 2);
                Array.Resize(ref _slots, _slots.Length * 2);
            }

            index = _count++;
            _indexOfFd.Add(fd, index);
            Set(index, fd, identity, token, interest, trigger, rearmsOnWouldBlock);
            return 0;
        }
        finally
        {
            EndChange();
        }
    }

    public int Reregister(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock)
    {
        int errno = Identify(fd, out FileIdentity identity);
        if (errno != 0)
        {
            return errno;
        }

        BeginChange();
        try
        {
            // A slot whose descriptor was closed (and perhaps reused by another file) is not this registration.
            if (!_indexOfFd.TryGetValue(fd, out int index) || _slots[index].Closed || _slots[index].Identity != identity)
            {
                return Errno.ENOENT;
            }

            Set(index, fd, identity, token, interest, trigger, rearmsOnWouldBlock);
            return 0;
        }
        finally
        {
            EndChange();
        }
    }

    public int Deregister(int fd)
    {
        BeginChange();
        try
        {
            if (!_indexOfFd.Remove(fd, out int index))
            {
                return Errno.ENOENT;
            }

            int last = --_count;
            if (index != last)
            {
                _fds[index] = _fds[last];
                _slots[index] = _slots[last];
                _indexOfFd[_slots[index].Fd] = index;
            }

            _fds[last] = default;
            _slots[last] = default;
            return 0;
        }
        finally
        {
            EndChange();
        }
    }

    public void Rearm(int fd, Interest interest)
    {
        // After Dispose there is nothing to rearm (a Waker may still be woken): do nothing, like epoll.
        if (!TryBeginChange())
        {
            return;
        }

        try
        {
            if (!_indexOfFd.TryGetValue(fd, out int index))
            {
                return;
            }

            ref Slot slot = ref _slots[index];
            if (!slot.EmulatesEdge || slot.Closed)
            {
                return;
            }

            // Would-block on a read rearms the whole read side (POLLPRI data is read with recv too).
            int wanted = 0;
            if ((interest & (Interest.Readable | Interest.Priority)) != 0)
            {
                wanted |= ReadSide;
            }

            if ((interest & Interest.Writable) != 0)
            {
                wanted |= WriteSide;
            }

            Arm(index, slot.Armed | (wanted & slot.Requested));
        }
        finally
        {
            EndChange();
        }
    }

    public int Select(Events events, int timeoutMilliseconds)
    {
        long deadline = timeoutMilliseconds > 0 ? Environment.TickCount64 + timeoutMilliseconds : 0;
        int timeout = timeoutMilliseconds;
        bool added = false;
        try
        {
            // Keeps the internal eventfd open while this thread may poll it, even if Dispose runs meanwhile.
            _wake.DangerousAddRef(ref added);
            Monitor.Enter(_gate);
            try
            {
                while (true)
                {
                    while (Volatile.Read(ref _waitingChanges) != 0)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (Volatile.Read(ref _interrupted) != 0)
                    {
                        events.SetCount(0);
                        return 0;
                    }

                    Interlocked.Exchange(ref _inPoll, 1);
                    if (Volatile.Read(ref _waitingChanges) != 0)
                    {
                        Volatile.Write(ref _inPoll, 0);
                        continue;
                    }

                    int ready;
                    int errno = 0;
                    fixed (pollfd* fds = _fds)
                    {
                        ready = NativeMethods.poll(fds, (ulong)_count, timeout);
                        if (ready < 0)
                        {
                            errno = Errno.Last;
                        }
                    }

                    Volatile.Write(ref _inPoll, 0);
                    if (ready < 0)
                    {
                        if (errno != Errno.EINTR)
                        {
                            throw Errno.ToIOException(errno, "poll");
                        }

                        ready = 0;
                    }

                    if (ready == 0)
                    {
                        events.SetCount(0);
                        return 0;
                    }

                    if (_fds[0].revents != 0)
                    {
                        EventFd.TryRead(_wake, out _);
                        ready--;
                    }

                    int count = ready > 0 ? Collect(events, ready) : 0;
                    if (count > 0 || timeoutMilliseconds == 0)
                    {
                        events.SetCount(count);
                        return count;
                    }

                    // Woken to apply a registry change (or every ready descriptor was dropped): poll again
                    // with the new set for what is left of the timeout.
                    if (timeoutMilliseconds > 0)
                    {
                        long left = deadline - Environment.TickCount64;
                        if (left <= 0)
                        {
                            events.SetCount(0);
                            return 0;
                        }

                        timeout = (int)left;
                    }
                }
            }
            finally
            {
                Monitor.Exit(_gate);
            }
        }
        finally
        {
            if (added)
            {
                _wake.DangerousRelease();
            }
        }
    }

    public void Interrupt()
    {
        Volatile.Write(ref _interrupted, 1);
        Signal();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _wake.Dispose();
        }
    }

    /// <summary>Copies the fired registrations into <paramref name="events"/> and applies their triggers. Caller holds the gate.</summary>
    private int Collect(Events events, int ready)
    {
        int registrations = _count - 1;
        int capacity = events.Capacity;
        epoll_event[] buffer = events.Buffer;
        int filled = 0;
        int seen = 0;
        int step = 0;

        // Scan from where the previous batch stopped, so that a full Events batch does not starve the
        // registrations at the end of the array.
        int start = _cursor < registrations ? _cursor : 0;
        for (; step < registrations && seen < ready && filled < capacity; step++)
        {
            int index = 1 + ((start + step) % registrations);
            int revents = (ushort)_fds[index].revents;
            if (revents == 0)
            {
                continue;
            }

            seen++;
            ref Slot slot = ref _slots[index];
            if ((revents & Invalid) != 0 || (slot.Foreign && !IsStill(slot)))
            {
                // Closed without being deregistered (or its number now names another file): nobody can act on
                // it; report nothing, poll it no more.
                slot.Closed = true;
                Arm(index, 0);
                continue;
            }

            buffer[filled].events = revents;
            buffer[filled].data.u64 = (ulong)slot.Token;
            filled++;

            if (slot.Oneshot || ((revents & HangUpOrError) != 0 && slot.EmulatesEdge))
            {
                Arm(index, 0);
            }
            else if (slot.EmulatesEdge)
            {
                int armed = slot.Armed;
                if ((revents & ReadSide) != 0)
                {
                    armed &= ~ReadSide;
                }

                if ((revents & WriteSide) != 0)
                {
                    armed &= ~WriteSide;
                }

                Arm(index, armed);
            }
        }

        _cursor = registrations == 0 ? 0 : (start + step) % registrations;
        AssertInvariants();
        return filled;
    }

    /// <summary>(Re)writes slot <paramref name="index"/> and arms everything it asks for.</summary>
    private void Set(int index, int fd, FileIdentity identity, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock)
    {
        int requested = (int)EpollFlags.For(interest, Trigger.Level);
        _slots[index] = new Slot
        {
            Fd = fd,
            Identity = identity,
            Token = token,
            Requested = requested,
            Oneshot = (trigger & Trigger.Oneshot) != 0,
            EmulatesEdge = (trigger & Trigger.Edge) != 0 && (trigger & Trigger.Oneshot) == 0 && rearmsOnWouldBlock,
            Foreign = !rearmsOnWouldBlock,
        };
        Arm(index, requested);
    }

    /// <summary>
    /// <c>fstat</c>s <paramref name="fd"/>: EBADF when it is not open, EPERM for a regular file or directory
    /// (which poll(2) would report ready forever and epoll refuses), else 0 and its identity.
    /// </summary>
    private static int Identify(int fd, out FileIdentity identity)
    {
        stat status;
        if (fstat(fd, &status) != 0)
        {
            identity = default;
            return Errno.Last;
        }

        identity = new FileIdentity(status.st_dev, status.st_ino);
        return S_ISREG(status.st_mode) || S_ISDIR(status.st_mode) ? Errno.EPERM : 0;
    }

    /// <summary>Whether the slot's number still names the file that was registered (one <c>fstat</c>).</summary>
    private static bool IsStill(in Slot slot) =>
        Identify(slot.Fd, out FileIdentity identity) is 0 && identity == slot.Identity;

    /// <summary>Sets what slot <paramref name="index"/> polls for; nothing armed takes it out of the poll set.</summary>
    private void Arm(int index, int armed)
    {
        Debug.Assert(index >= 1 && index < _count, "slot 0 is the wake eventfd; registrations are 1.._count");
        ref Slot slot = ref _slots[index];
        Debug.Assert((armed & ~slot.Requested) == 0 || armed == 0, "only requested directions are armed");
        slot.Armed = armed;
        _fds[index].events = (short)armed;
        _fds[index].fd = armed != 0 && !slot.Closed ? slot.Fd : -1;
    }

    /// <summary>
    /// Debug builds, with the gate held: the wake eventfd is slot 0 and always polled for reading; every registration
    /// is in <see cref="_indexOfFd"/> under its own number; a slot polls its descriptor exactly when it is armed and
    /// not closed, for exactly its armed directions.
    /// </summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_gate), "the selector's state changes under its gate");
        Debug.Assert(_count >= 1 && _count <= _fds.Length && _fds.Length == _slots.Length, "the arrays hold the wake slot and the registrations");
        Debug.Assert(_indexOfFd.Count == _count - 1, $"{_indexOfFd.Count} descriptors indexed, {_count - 1} registered");
        for (int index = 1; index < _count; index++)
        {
            ref Slot slot = ref _slots[index];
            Debug.Assert(_indexOfFd.TryGetValue(slot.Fd, out int indexed) && indexed == index, $"slot {index} is indexed under its descriptor");
            bool polled = slot.Armed != 0 && !slot.Closed;
            Debug.Assert(_fds[index].fd == (polled ? slot.Fd : -1), $"slot {index} is polled exactly when armed and open");
            Debug.Assert(_fds[index].events == (short)slot.Armed, $"slot {index} polls its armed directions");
        }
    }

    /// <summary>Announces a registry change and takes the gate, waking the waiter out of poll(2) if it is in it.</summary>
    private void BeginChange()
    {
        if (!TryBeginChange())
        {
            throw new ObjectDisposedException(nameof(Poll), "This Registry's Poll has been disposed; create a new Poll to register sources.");
        }
    }

    /// <summary>As <see cref="BeginChange"/>, but returns <see langword="false"/> (holding nothing) once disposed.</summary>
    private bool TryBeginChange()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        Interlocked.Increment(ref _waitingChanges);
        if (Volatile.Read(ref _inPoll) != 0)
        {
            Signal();
        }

        Monitor.Enter(_gate);
        return true;
    }

    private void EndChange()
    {
        AssertInvariants();
        if (Interlocked.Decrement(ref _waitingChanges) == 0)
        {
            Monitor.PulseAll(_gate);
        }

        Monitor.Exit(_gate);
    }

    /// <summary>Makes the internal eventfd readable; does nothing once it is closed (nobody is left to wake).</summary>
    private void Signal()
    {
        try
        {
            EventFd.TryWrite(_wake, 1);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: no waiter can be blocked on a closed descriptor's poll set.
        }
    }

    /// <summary>What the poll set keeps for one registration besides its <c>pollfd</c>.</summary>
    private struct Slot
    {
        public int Fd;
        public FileIdentity Identity;
        public Token Token;
        public int Requested;
        public int Armed;
        public bool Oneshot;
        public bool EmulatesEdge;

        /// <summary>A raw descriptor (<see cref="SourceFd"/>): it may be closed without being deregistered.</summary>
        public bool Foreign;
        public bool Closed;
    }

    /// <summary>Which file a descriptor number names: its device and inode numbers.</summary>
    private readonly record struct FileIdentity(ulong Device, ulong Inode);
}
