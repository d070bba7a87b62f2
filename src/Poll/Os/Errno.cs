using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>Reads <c>errno</c> and turns it into the exceptions docs/design.md names ("Errors").</summary>
internal static class Errno
{
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOENT = 2;
    public const int EPERM = 1;
    public const int ELOOP = 40;

    /// <summary>The calling thread's <c>errno</c> after a failed libc call.</summary>
    public static int Last => LibC.errno;

    /// <summary>
    /// An <see cref="IOException"/> for a failed system call: the message names the call, what it was
    /// doing and the error; <see cref="Exception.HResult"/> is the raw errno (as .NET does on Unix).
    /// </summary>
    public static IOException ToIOException(int errno, string operation) =>
        new($"{operation} failed: {Describe(errno)}.", errno);

    /// <summary>"Bad file descriptor (errno 9)".</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
