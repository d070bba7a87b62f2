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
        int errno;
        while (!Errno.Settled(NativeMethods.write(handle, &value, sizeof(ulong)), out _, out errno))
        {
        }

        return errno;
    }

    /// <summary>Reads and resets the counter. Returns 0 or the errno (EAGAIN when it was already 0).</summary>
    public static int TryRead(SafeHandle handle, out ulong value)
    {
        ulong read = 0;
        int errno;
        while (!Errno.Settled(NativeMethods.read(handle, &read, sizeof(ulong)), out _, out errno))
        {
        }

        value = read;
        return errno;
    }

    /// <summary>
    /// Makes the counter non-zero (a wake-up): adds 1, and if the counter is saturated (after ~2^64 writes without a
    /// read) resets it and adds 1 again. Returns 0 or the errno.
    /// </summary>
    public static int Signal(SafeHandle handle)
    {
        int errno = TryWrite(handle, 1);
        if (errno == Errno.EAGAIN)
        {
            TryRead(handle, out _);
            errno = TryWrite(handle, 1);
        }

        return errno;
    }
}
