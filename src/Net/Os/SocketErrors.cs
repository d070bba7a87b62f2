using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Polling.Os;

using static Polling.Os.Errno;

namespace Polling.Net.Os;

/// <summary>
/// The translation of errno values (<see cref="Errno"/>, the one table) into the
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
        $"{what} is not connected (yet): a non-blocking connect completes when the socket becomes writable; call TryFinishConnect() then (or TakeError(), mio's way) to learn whether it succeeded.");

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
