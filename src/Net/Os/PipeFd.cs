using System.Runtime.InteropServices;
using Polling.Os;
using static Tmds.Linux.LibC;

namespace Polling.Net.Os;

/// <summary>
/// The system calls that make <see cref="Pipe"/> ends: <c>pipe2</c>, and the flag changes that adopt a
/// pipe descriptor from elsewhere. Reading and writing go through <see cref="IoSource.TryRead"/> and
/// <see cref="IoSource.TryWrite"/>.
/// </summary>
internal static unsafe class PipeFd
{
    /// <summary>A new pipe, both ends non-blocking and close-on-exec (one syscall: <c>pipe2</c>).</summary>
    public static (FdHandle Read, FdHandle Write) Create()
    {
        LinuxOnly.Check();
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw Errno.ToIOException(Errno.Last, "pipe2 (creating a pipe)");
        }

        return (new FdHandle(fds[0]), new FdHandle(fds[1]));
    }

    /// <summary>
    /// Takes the descriptor out of <paramref name="handle"/> (which will no longer close it), makes it
    /// non-blocking and close-on-exec, and checks it was opened for <paramref name="access"/>
    /// (<c>O_RDONLY</c> or <c>O_WRONLY</c>; <c>O_RDWR</c> satisfies both).
    /// </summary>
    /// <returns>The adopted descriptor, or throws with <paramref name="handle"/> left untouched.</returns>
    public static FdHandle Adopt(SafeHandle handle, int access, string typeName)
    {
        if (handle.IsClosed || handle.IsInvalid)
        {
            throw new ArgumentException(
                $"Cannot create a {typeName} from a closed or invalid handle: pass an open descriptor that you no longer use elsewhere.",
                nameof(handle));
        }

        int fd = (int)handle.DangerousGetHandle();
        int statusFlags = fcntl(fd, F_GETFL);
        if (statusFlags < 0)
        {
            throw Errno.ToIOException(Errno.Last, $"fcntl(F_GETFL) on descriptor {fd} (creating a {typeName})");
        }

        int mode = statusFlags & O_ACCMODE;
        if (mode != access && mode != O_RDWR)
        {
            string wanted = access == O_RDONLY ? "reading" : "writing";
            throw new ArgumentException(
                $"Cannot create a {typeName} from descriptor {fd}: it is not open for {wanted}. Pass the {(access == O_RDONLY ? "reading" : "writing")} end of the pipe.",
                nameof(handle));
        }

        if ((statusFlags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, statusFlags | O_NONBLOCK) < 0)
        {
            throw Errno.ToIOException(Errno.Last, $"fcntl(F_SETFL, O_NONBLOCK) on descriptor {fd} (creating a {typeName})");
        }

        int descriptorFlags = fcntl(fd, F_GETFD);
        if (descriptorFlags < 0 || ((descriptorFlags & FD_CLOEXEC) == 0 && fcntl(fd, F_SETFD, descriptorFlags | FD_CLOEXEC) < 0))
        {
            throw Errno.ToIOException(Errno.Last, $"fcntl(F_SETFD, FD_CLOEXEC) on descriptor {fd} (creating a {typeName})");
        }

        var adopted = new FdHandle(fd);
        handle.SetHandleAsInvalid();
        return adopted;
    }
}
