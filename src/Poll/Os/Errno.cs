using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>Reads <c>errno</c> and turns it into the exceptions docs/design.md names ("Errors").</summary>
/// <remarks>
/// Error paths run when descriptors or memory are exhausted, so they must need neither: the text of every
/// errno is looked up once, when the assembly loads (<see cref="Prepare"/>), and building an exception for
/// any errno afterwards opens no descriptor, loads no assembly and makes no system call.
/// </remarks>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ELOOP = 40;
    public const int ENOBUFS = 105;

    /// <summary>The largest errno Linux defines (<c>EHWPOISON</c>); the table covers 0..this.</summary>
    private const int LastKnown = 133;

    private static readonly string[] Descriptions = BuildTable();

    /// <summary>The calling thread's <c>errno</c> after a failed libc call.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>
    /// Settles one attempt of a call that returns a byte count (or -1): <see langword="false"/> means it was
    /// interrupted (EINTR) and must be made again; otherwise <paramref name="errno"/> is 0 or the error and
    /// <paramref name="count"/> the bytes moved (0 on error).
    /// </summary>
    public static bool Settled(long result, out int count, out int errno)
    {
        if (result >= 0)
        {
            count = (int)result;
            errno = 0;
            return true;
        }

        count = 0;
        errno = Last;
        return errno != EINTR;
    }

    /// <summary>
    /// An <see cref="IOException"/> for a failed system call: the message names the call, what it was
    /// doing and the error; <see cref="Exception.HResult"/> is the raw errno (as .NET does on Unix).
    /// </summary>
    public static IOException ToIOException(int errno, string operation) =>
        new($"{operation} failed: {Describe(errno)}.", errno);

    /// <summary>"Bad file descriptor (errno 9)", from the table built at load time (no <c>strerror</c> call now).</summary>
    public static string Describe(int errno) =>
        (uint)errno <= LastKnown ? Descriptions[errno] : $"Unknown error {errno} (errno {errno})";

    /// <summary>
    /// Runs when Polling loads: builds the errno table and exercises the exception path once, so that the
    /// first real failure (perhaps at the descriptor limit) finds everything it needs loaded and compiled.
    /// </summary>
#pragma warning disable CA2255 // A library module initializer on purpose: error paths must not load anything later.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Prepare()
    {
        RuntimeHelpers.RunClassConstructor(typeof(Errno).TypeHandle);
        _ = ToIOException(EMFILE, "prepare the error path").Message;
    }

    private static string[] BuildTable()
    {
        var table = new string[LastKnown + 1];
        for (int errno = 0; errno <= LastKnown; errno++)
        {
            table[errno] = $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        }

        return table;
    }
}
