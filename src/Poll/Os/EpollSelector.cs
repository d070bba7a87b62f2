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
        bool added = false;
        int count;
        int errno = 0;
        try
        {
            _epoll.DangerousAddRef(ref added);
            fixed (epoll_event* buffer = events.Buffer)
            {
                count = epoll_wait(_epoll.Fd, buffer, events.Capacity, timeoutMilliseconds);
                if (count < 0)
                {
                    errno = Errno.Last;
                }
            }
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }

        if (count < 0)
        {
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
        // Closing an epoll descriptor does not wake a thread blocked on it, so a waiter is woken by a
        // readable eventfd added for the purpose. The waiter sees the Poll disposed and throws, so the
        // event's token is never handed to user code. The eventfd lives as long as the epoll handle.
        int wake = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake < 0)
        {
            return;
        }

        if (!_epoll.TryAttachInterrupt(wake))
        {
            close(wake);
            return;
        }

        Control(EPOLL_CTL_ADD, wake, EpollFlags.In, default);
    }

    public void Dispose() => _epoll.Dispose();

    private int Control(int op, int fd, uint flags, Token token)
    {
        epoll_event ev = default;
        ev.events = unchecked((int)flags);
        ev.data.u64 = (ulong)token;
        bool added = false;
        try
        {
            _epoll.DangerousAddRef(ref added);
            return epoll_ctl(_epoll.Fd, op, fd, &ev) == 0 ? 0 : Errno.Last;
        }
        finally
        {
            if (added)
            {
                _epoll.DangerousRelease();
            }
        }
    }

    /// <summary>The epoll descriptor, plus the eventfd that <see cref="Interrupt"/> may attach.</summary>
    private sealed class EpollHandle : Microsoft.Win32.SafeHandles.SafeHandleMinusOneIsInvalid
    {
        private int _interruptFd = -1;

        public EpollHandle(int fd)
            : base(ownsHandle: true)
        {
            SetHandle(fd);
        }

        public int Fd => (int)handle;

        public bool TryAttachInterrupt(int fd) => Interlocked.CompareExchange(ref _interruptFd, fd, -1) == -1;

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
