using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Polling.Os;

namespace Polling.Net.Os;

/// <summary>
/// Socket errno values (Linux, identical on x64 and arm64) and their translation into the
/// <see cref="SocketException"/> the contract names: the matching <see cref="SocketError"/>, and a
/// message that says which operation on which socket or endpoint failed, and why.
/// </summary>
/// <remarks>
/// Building the exception must work when descriptors are exhausted (EMFILE, ENFILE) or the kernel is out of
/// memory (ENOBUFS, ENOMEM): it opens no descriptor, loads no assembly and makes no system call. The errno
/// texts come from <see cref="Errno"/>'s table, and <see cref="Prepare"/> loads what the messages and the
/// sources' <c>ToString()</c> use when Polling.Net itself loads.
/// </remarks>
internal static class SocketErrors
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENAMETOOLONG = 36;
    public const int ELOOP = 40;
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

    /// <summary>The <see cref="SocketError"/> .NET reports for <paramref name="errno"/> (0 → <see cref="SocketError.Success"/>).</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        0 => SocketError.Success,
        EAGAIN => SocketError.WouldBlock,
        EINTR => SocketError.Interrupted,
        EINPROGRESS => SocketError.InProgress,
        EALREADY => SocketError.AlreadyInProgress,
        ECONNRESET => SocketError.ConnectionReset,
        EPIPE => SocketError.Shutdown,
        ESHUTDOWN => SocketError.Disconnecting,
        ECONNREFUSED => SocketError.ConnectionRefused,
        ECONNABORTED => SocketError.ConnectionAborted,
        EADDRINUSE => SocketError.AddressAlreadyInUse,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        ENOENT => SocketError.AddressNotAvailable,
        ENOTCONN => SocketError.NotConnected,
        EISCONN => SocketError.IsConnected,
        ETIMEDOUT => SocketError.TimedOut,
        EHOSTUNREACH => SocketError.HostUnreachable,
        EHOSTDOWN => SocketError.HostDown,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ENETDOWN => SocketError.NetworkDown,
        ENETRESET => SocketError.NetworkReset,
        EACCES or EPERM => SocketError.AccessDenied,
        EINVAL or ENAMETOOLONG or ENOTDIR or ELOOP => SocketError.InvalidArgument,
        EMSGSIZE => SocketError.MessageSize,
        EFAULT => SocketError.Fault,
        EBADF => SocketError.OperationAborted,
        EMFILE or ENFILE => SocketError.TooManyOpenSockets,
        ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
        ENOTSOCK => SocketError.NotSocket,
        EDESTADDRREQ => SocketError.DestinationAddressRequired,
        EPROTOTYPE => SocketError.ProtocolType,
        ENOPROTOOPT => SocketError.ProtocolOption,
        EPROTONOSUPPORT => SocketError.ProtocolNotSupported,
        ESOCKTNOSUPPORT => SocketError.SocketNotSupported,
        EOPNOTSUPP => SocketError.OperationNotSupported,
        EPFNOSUPPORT => SocketError.ProtocolFamilyNotSupported,
        EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        _ => SocketError.SocketError,
    };

    /// <summary>
    /// A <see cref="SocketException"/> for a failed socket call: <see cref="SocketException.SocketErrorCode"/>
    /// is the matching <see cref="SocketError"/>; the message reads
    /// "<paramref name="operation"/> failed: Connection reset by peer (errno 104, ConnectionReset)." plus a hint
    /// for the errors whose cause is usually on the caller's side.
    /// </summary>
    /// <param name="errno">The errno the call failed with.</param>
    /// <param name="operation">What was being done, naming the socket and/or endpoint,
    /// e.g. "connect TcpStream(fd 7) to 127.0.0.1:9000".</param>
    public static SocketException Exception(int errno, string operation)
    {
        SocketError error = ToSocketError(errno);
        string hint = Hint(errno);
        return new SocketException((int)error, $"{operation} failed: {Errno.Describe(errno)}, {error}.{hint}");
    }

    /// <summary>The exception for a socket that is not connected, e.g. for <c>RemoteEndPoint</c> before the connect completed.</summary>
    public static SocketException NotConnected(string what) => new(
        (int)SocketError.NotConnected,
        $"{what} is not connected (yet): a non-blocking connect completes when the socket becomes writable; call TakeError() then to learn whether it succeeded.");

    private static string Hint(int errno) => errno switch
    {
        EADDRINUSE => " Another socket is bound to that address: choose another port (0 picks a free one), stop the other program, or for a Unix path remove the stale socket file first.",
        EADDRNOTAVAIL => " The address is not assigned to this machine (or the Unix socket path does not exist).",
        ENOENT => " The Unix socket path does not exist: is the server running and bound to it?",
        EACCES or EPERM => " Permission denied: ports below 1024 need privileges, a Unix path needs write access to its directory, and broadcast needs the Broadcast option.",
        EMFILE or ENFILE => " The process or system ran out of file descriptors: close unused sockets or raise the limit (ulimit -n).",
        EMSGSIZE => " The datagram is larger than the socket can send in one piece.",
        ECONNREFUSED => " Nothing is listening at that address.",
        _ => string.Empty,
    };

    /// <summary>
    /// Runs when Polling.Net loads: loads the assemblies behind the exception and address types
    /// (System.Net.Primitives, System.Net.Sockets) and builds one exception of each kind, so that a failure at the
    /// descriptor limit needs nothing more — loading an assembly opens a file.
    /// </summary>
#pragma warning disable CA2255 // A library module initializer on purpose: error paths must not load anything later.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Prepare()
    {
        Errno.Prepare();
        RuntimeHelpers.RunClassConstructor(typeof(SocketException).TypeHandle);
        RuntimeHelpers.RunClassConstructor(typeof(UnixDomainSocketEndPoint).TypeHandle);
        RuntimeHelpers.RunClassConstructor(typeof(IPEndPoint).TypeHandle);
        _ = Exception(EMFILE, "prepare the error path").Message;
        _ = NotConnected("prepare the error path").Message;
        _ = new IPEndPoint(IPAddress.IPv6Loopback, 1).ToString();
        _ = new ObjectDisposedException("prepare", "the error path").Message;
    }
}
