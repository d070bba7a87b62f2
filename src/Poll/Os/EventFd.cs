using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace Polling.Os;

/// <summary>Linux <c>eventfd</c>: a 64-bit counter that is readable while non-zero.</summary>
internal static unsafe class EventFd
{
    /// <summary>A new non-blocking, close-on-exec eventfd with counter 0.</summary>
    public static FdHandle Create()
    {
        LinuxOnly.Check();
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
        {
            throw Errno.ToIOException(Errno.Last, "eventfd");
        }

        return new FdHandle(fd);
    }

    /// <summary>Adds <paramref name="value"/> to the counter. Returns 0 or the errno (EAGAIN when the counter would overflow).</summary>
    public static int TryWrite(SafeHandle handle, ulong value)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            while (true)
            {
                if (write((int)handle.DangerousGetHandle(), &value, sizeof(ulong)) == sizeof(ulong))
                {
                    return 0;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    return errno;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Reads and resets the counter. Returns 0 or the errno (EAGAIN when it was already 0).</summary>
    public static int TryRead(SafeHandle handle, out ulong value)
    {
        bool added = false;
        ulong read = 0;
        try
        {
            handle.DangerousAddRef(ref added);
            while (true)
            {
                if (Tmds.Linux.LibC.read((int)handle.DangerousGetHandle(), &read, sizeof(ulong)) == sizeof(ulong))
                {
                    value = read;
                    return 0;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    value = 0;
                    return errno;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
