using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Os;

/// <summary>The epoll backend: one epoll descriptor, tokens carried in <c>epoll_event.data.u64</c>.</summary>
internal sealed unsafe class EpollSelector : ISelector
{
    private readonly EpollHandle _epoll;

    public EpollSelector()
    {
        LinuxOnly.Check();
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
        {
            throw Errno.ToIOException(Errno.Last, "epoll_create1 (creating a Poll)");
        }

        _epoll = new EpollHandle(fd);

        // The eventfd that Interrupt makes readable is created and added now, not at Dispose time: a process out of
        // descriptors must still be able to dispose a Poll and wake its waiter. It stays at 0 until then, so it is
        // never reported; the waiter sees the Poll disposed and throws, so its token is never handed to user code.
        int interrupt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (interrupt < 0)
        {
            int errno = Errno.Last;
            _epoll.Dispose();
            throw Errno.ToIOException(errno, "eventfd (creating a Poll)");
        }

        _epoll.AttachInterrupt(interrupt);
        int added = Control(EPOLL_CTL_ADD, interrupt, EpollFlags.In, default);
        if (added != 0)
        {
            _epoll.Dispose();
            throw Errno.ToIOException(added, "epoll_ctl (creating a Poll)");
        }
    }

    public int Register(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock) =>
        Control(EPOLL_CTL_ADD, fd, EpollFlags.For(interest, trigger), token);

    public int Reregister(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock) =>
        Control(EPOLL_CTL_MOD, fd, EpollFlags.For(interest, trigger), token);

    public int Deregister(int fd) => Control(EPOLL_CTL_DEL, fd, 0, default);

    public void Rearm(int fd, Interest interest)
    {
        // The kernel tracks edges itself.
    }

    public int Select(Events events, int timeoutMilliseconds)
    {
        int count;
        fixed (epoll_event* buffer = events.Buffer)
        {
            count = NativeMethods.epoll_wait(_epoll, buffer, events.Capacity, timeoutMilliseconds);
        }

        if (count < 0)
        {
            int errno = -count; // ErrnoOnFailure
            if (errno != Errno.EINTR)
            {
                throw Errno.ToIOException(errno, "epoll_wait");
            }

            count = 0;
        }

        events.SetCount(count);
        return count;
    }

    public void Interrupt()
    {
        // Closing an epoll descriptor does not wake a thread blocked on it: make the interrupt eventfd readable.
        // One write on a descriptor that already exists; nothing here can run out.
        ulong one = 1;
        bool added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);
            write(_epoll.InterruptFd, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Already closed: no waiter can be blocked on it any more.
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }
    }

    public void Dispose() => _epoll.Dispose();

    private int Control(int op, int fd, uint flags, Token token)
    {
        epoll_event ev = default;
        ev.events = unchecked((int)flags);
        ev.data.u64 = (ulong)token;
        return NativeMethods.epoll_ctl(_epoll, op, fd, &ev) == 0 ? 0 : Errno.Last;
    }

    /// <summary>The epoll descriptor, plus the eventfd that <see cref="Interrupt"/> writes; both close together.</summary>
    private sealed class EpollHandle : Microsoft.Win32.SafeHandles.SafeHandleMinusOneIsInvalid
    {
        private int _interruptFd = -1;

        public EpollHandle(int fd)
            : base(ownsHandle: true)
        {
            SetHandle(fd);
        }

        public int Fd => (int)handle;

        public int InterruptFd => _interruptFd;

        public void AttachInterrupt(int fd) => _interruptFd = fd;

        protected override bool ReleaseHandle()
        {
            if (_interruptFd >= 0)
            {
                close(_interruptFd);
            }

            return close((int)handle) == 0;
        }
    }
}
