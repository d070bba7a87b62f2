using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;

namespace Polling.Net.Os;

/// <summary>
/// The system calls of <see cref="AcceptLoop"/>'s error path, made without anything that can run out:
/// <c>accept4</c> returning the raw descriptor (so a connection that is shed is closed without allocating a
/// handle), <c>close</c>, and opening the reserve descriptor (<c>/dev/null</c>, close-on-exec) that the
/// descriptor-exhaustion remedy gives up to make room for one <c>accept</c>. Each returns an errno instead of
/// throwing; <c>EINTR</c> is retried.
/// </summary>
internal static unsafe class AcceptCalls
{
    private static ReadOnlySpan<byte> DevNull => "/dev/null\0"u8;

    /// <summary>
    /// <c>accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)</c> on <paramref name="listener"/> without the peer's address.
    /// Returns 0 and the new descriptor in <paramref name="fd"/>, or the errno (and -1).
    /// </summary>
    public static int Accept(SafeHandle listener, out int fd)
    {
        int errno;
        while (!Errno.Settled(fd = NativeMethods.accept4(listener, null, null, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC), out _, out errno))
        {
        }

        return errno;
    }

    /// <summary>Closes a raw descriptor (an accepted connection that is shed, or the reserve); errors are ignored.</summary>
    public static void Close(int fd) => LibC.close(fd);

    /// <summary>Opens <c>/dev/null</c> read-only and close-on-exec: the reserve descriptor. Returns it, or -1 when none is free.</summary>
    public static int OpenReserve()
    {
        fixed (byte* path = DevNull)
        {
            while (true)
            {
                int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
                if (fd >= 0 || Errno.Last != Errno.EINTR)
                {
                    return fd;
                }
            }
        }
    }

    /// <summary>Wraps an accepted descriptor into the handle a stream owns (allocates the handle).</summary>
    public static FdHandle Adopt(int fd) => new(fd);

    /// <summary>
    /// <see langword="true"/> for the errors <c>accept(2)</c> documents as the peer's or the network's, not the
    /// listener's: the connection is gone, accept the next one.
    /// </summary>
    public static bool IsConnectionError(int errno) => errno is Errno.ECONNABORTED or Errno.EPROTO or Errno.EPERM
        or Errno.ENETDOWN or Errno.ENETUNREACH or Errno.EHOSTDOWN or Errno.EHOSTUNREACH
        or Errno.ENOPROTOOPT or Errno.EOPNOTSUPP or Errno.ENONET or Errno.ETIMEDOUT;

    /// <summary><see langword="true"/> when the process (EMFILE) or the system (ENFILE) is out of descriptors.</summary>
    public static bool IsOutOfDescriptors(int errno) => errno is Errno.EMFILE or Errno.ENFILE;

    /// <summary><see langword="true"/> when the kernel is out of memory for a new socket (ENOBUFS, ENOMEM).</summary>
    public static bool IsOutOfMemory(int errno) => errno is Errno.ENOBUFS or Errno.ENOMEM;
}
