using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>
/// The one errno table of both assemblies: the values, their texts, and the <see cref="IOException"/> docs/design.md
/// names ("Errors") for descriptors that are not sockets (Polling.Net's <c>SocketErrors</c> maps the same values to
/// <c>SocketException</c>).
/// </summary>
/// <remarks>
/// Error paths run when descriptors or memory are exhausted, so they must need neither: the text of every
/// errno is looked up once, when the assembly loads (<see cref="Prepare"/>), and building an exception for
/// any errno afterwards opens no descriptor, loads no assembly and makes no system call.
/// </remarks>
internal static class Errno
{
    // The errno values Polling and Polling.Net name (Linux; identical on x64 and arm64). Tmds.LibC has them too, but as
    // properties, which cannot be `case` labels or patterns; a Debug build checks every value against it (Prepare).
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENAMETOOLONG = 36;
    public const int ELOOP = 40;
    public const int ENONET = 64;
    public const int EPROTO = 71;
    public const int ENOTSOCK = 88;
    public const int EDESTADDRREQ = 89;
    public const int EMSGSIZE = 90;
    public const int EPROTOTYPE = 91;
    public const int ENOPROTOOPT = 92;
    public const int EPROTONOSUPPORT = 93;
    public const int ESOCKTNOSUPPORT = 94;
    public const int EOPNOTSUPP = 95;
    public const int EPFNOSUPPORT = 96;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETDOWN = 100;
    public const int ENETUNREACH = 101;
    public const int ENETRESET = 102;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int EISCONN = 106;
    public const int ENOTCONN = 107;
    public const int ESHUTDOWN = 108;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTDOWN = 112;
    public const int EHOSTUNREACH = 113;
    public const int EALREADY = 114;
    public const int EINPROGRESS = 115;

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
    public static bool Settled(long result, out int count, out int errno) =>
        SettledNegated(result >= 0 ? result : -Last, out count, out errno);

    /// <summary>
    /// <see cref="Settled"/> for an import marshalled with <see cref="ErrnoOnFailure"/>: <paramref name="result"/> is
    /// the count, or −<c>errno</c> when the call failed.
    /// </summary>
    public static bool SettledNegated(long result, out int count, out int errno)
    {
        if (result >= 0)
        {
            count = (int)result;
            errno = 0;
            return true;
        }

        count = 0;
        errno = (int)-result;
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
        AssertMatchesLibC();
        EpollFlags.AssertMatchesLibC();
    }

    /// <summary>Debug builds: every constant above equals Tmds.LibC's value of the same name.</summary>
    [Conditional("DEBUG")]
    private static void AssertMatchesLibC()
    {
        foreach (FieldInfo field in typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.IsLiteral && typeof(LibC).GetProperty(field.Name, BindingFlags.Public | BindingFlags.Static) is { } libc)
            {
                Debug.Assert(Equals(field.GetValue(null), libc.GetValue(null)), $"Errno.{field.Name} differs from Tmds.LibC's");
            }
        }
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
