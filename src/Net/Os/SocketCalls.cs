using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;
using static Polling.Os.NativeMethods;

namespace Polling.Net.Os;

/// <summary>
/// The socket system calls Polling.Net makes outside the I/O path (that is <see cref="SocketCore"/>'s):
/// creating, adopting, binding, connecting, naming, options. The imports (<see cref="NativeMethods"/>) take the
/// <see cref="SafeHandle"/>, so the marshaller holds a reference for the call (a concurrent <c>Dispose</c> never
/// lets it touch a reused descriptor number). Each returns <c>0</c> or the errno instead of throwing; callers
/// decide what an errno means. Constants come from Tmds.LibC.
/// </summary>
internal static unsafe class SocketCalls
{
    /// <summary>The kernel's <c>AF_*</c> value for a .NET address family.</summary>
    public static int Domain(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => SockAddr.AF_INET,
        AddressFamily.InterNetworkV6 => SockAddr.AF_INET6,
        AddressFamily.Unix => SockAddr.AF_UNIX,
        _ => throw new ArgumentException($"Address family {family} is not supported: use IPv4, IPv6 or Unix.", nameof(family)),
    };

    /// <summary>Creates a non-blocking, close-on-exec socket in one call (<c>SOCK_NONBLOCK|SOCK_CLOEXEC</c>).</summary>
    /// <param name="family">IPv4, IPv6 or Unix.</param>
    /// <param name="type"><c>SOCK_STREAM</c>, <c>SOCK_DGRAM</c> or <c>SOCK_SEQPACKET</c>.</param>
    /// <param name="purpose">For the error message, e.g. "create a TCP socket to connect to 127.0.0.1:80".</param>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public static FdHandle Create(AddressFamily family, int type, string purpose)
    {
        LinuxOnly.Check();
        int fd = LibC.socket(Domain(family), type | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        return fd >= 0 ? new FdHandle(fd) : throw SocketErrors.Exception(Errno.Last, purpose);
    }

    /// <summary>A connected pair of non-blocking, close-on-exec Unix sockets (<c>socketpair</c>).</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    public static (FdHandle First, FdHandle Second) CreatePair(int type, string purpose)
    {
        LinuxOnly.Check();
        int* fds = stackalloc int[2];
        if (LibC.socketpair(SockAddr.AF_UNIX, type | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw SocketErrors.Exception(Errno.Last, purpose);
        }

        return (new FdHandle(fds[0]), new FdHandle(fds[1]));
    }

    /// <summary>
    /// Takes the descriptor of a <see cref="Socket"/>: duplicates it (close-on-exec), makes the duplicate
    /// non-blocking and disposes the <see cref="Socket"/>, so the returned handle is the only owner.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static FdHandle Adopt(Socket socket, string purpose)
    {
        LinuxOnly.Check();
        int duplicate = fcntl(socket.SafeHandle, LibC.F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0)
        {
            throw SocketErrors.Exception(Errno.Last, purpose);
        }

        var handle = new FdHandle(duplicate);
        int errno = SetNonBlocking(handle);
        if (errno != 0)
        {
            handle.Dispose();
            throw SocketErrors.Exception(errno, purpose);
        }

        socket.Dispose();
        return handle;
    }

    /// <summary>Sets <c>O_NONBLOCK</c> on the descriptor (shared by all its duplicates).</summary>
    public static int SetNonBlocking(SafeHandle handle)
    {
        int flags = fcntl(handle, LibC.F_GETFL, 0);
        return flags < 0 || ((flags & LibC.O_NONBLOCK) == 0 && fcntl(handle, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0) ? Errno.Last : 0;
    }

    /// <summary><c>shutdown</c>.</summary>
    public static int Shutdown(SafeHandle handle, SocketShutdown how)
    {
        int native = how switch
        {
            SocketShutdown.Receive => LibC.SHUT_RD,
            SocketShutdown.Send => LibC.SHUT_WR,
            SocketShutdown.Both => LibC.SHUT_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "Give SocketShutdown.Receive, Send or Both."),
        };
        return shutdown(handle, native) == 0 ? 0 : Errno.Last;
    }

    /// <summary><c>getsockopt</c> for an <c>int</c> option.</summary>
    public static int GetOption(SafeHandle handle, int level, int name, out int value)
    {
        int result = 0;
        int errno = GetOption(handle, level, name, new Span<byte>(&result, sizeof(int)), out _);
        value = result;
        return errno;
    }

    /// <summary><c>setsockopt</c> for an <c>int</c> option.</summary>
    public static int SetOption(SafeHandle handle, int level, int name, int value) =>
        SetOption(handle, level, name, new ReadOnlySpan<byte>(&value, sizeof(int)));

    /// <summary><c>getsockopt</c> into raw bytes (for structs such as <c>ip_mreqn</c>); <paramref name="length"/> is what the kernel wrote.</summary>
    public static int GetOption(SafeHandle handle, int level, int name, Span<byte> value, out int length)
    {
        fixed (byte* pointer = value)
        {
            socklen_t size = (uint)value.Length;
            bool failed = getsockopt(handle, level, name, pointer, &size) != 0;
            length = failed ? 0 : (int)(uint)size;
            return failed ? Errno.Last : 0;
        }
    }

    /// <summary><c>setsockopt</c> from raw bytes.</summary>
    public static int SetOption(SafeHandle handle, int level, int name, ReadOnlySpan<byte> value)
    {
        fixed (byte* pointer = value)
        {
            return setsockopt(handle, level, name, pointer, (uint)value.Length) == 0 ? 0 : Errno.Last;
        }
    }

    /// <summary><c>SO_LINGER</c>: <see langword="null"/> when lingering is off, else the linger time in seconds.</summary>
    public static int GetLinger(SafeHandle handle, out int? seconds)
    {
        linger value = default;
        int errno = GetOption(handle, LibC.SOL_SOCKET, LibC.SO_LINGER, new Span<byte>(&value, sizeof(linger)), out _);
        seconds = value.l_onoff != 0 ? value.l_linger : null;
        return errno;
    }

    /// <summary>Sets <c>SO_LINGER</c>: <see langword="null"/> turns lingering off.</summary>
    public static int SetLinger(SafeHandle handle, int? seconds)
    {
        var value = new linger { l_onoff = seconds.HasValue ? 1 : 0, l_linger = seconds ?? 0 };
        return SetOption(handle, LibC.SOL_SOCKET, LibC.SO_LINGER, new ReadOnlySpan<byte>(&value, sizeof(linger)));
    }

    /// <summary><c>SO_PEERCRED</c>: the process, user and group of the peer of a Unix socket (as of connect/socketpair).</summary>
    public static int GetPeerCredentials(SafeHandle handle, out int processId, out uint userId, out uint groupId)
    {
        ucred value = default;
        int errno = GetOption(handle, LibC.SOL_SOCKET, LibC.SO_PEERCRED, new Span<byte>(&value, sizeof(ucred)), out _);
        processId = value.pid;
        userId = value.uid;
        groupId = value.gid;
        return errno;
    }

    /// <summary>Reads and clears the pending socket error (<c>SO_ERROR</c>): 0 when there is none.</summary>
    public static int TakeError(SafeHandle handle, out int pendingErrno) =>
        GetOption(handle, LibC.SOL_SOCKET, LibC.SO_ERROR, out pendingErrno);

    /// <summary><c>getsockname</c> into <paramref name="address"/> (at least <see cref="SockAddr.StorageSize"/> bytes).</summary>
    public static int GetSocketName(SafeHandle handle, Span<byte> address, out int length) =>
        GetName(handle, address, peer: false, out length);

    /// <summary><c>getpeername</c> into <paramref name="address"/>; ENOTCONN until connected.</summary>
    public static int GetPeerName(SafeHandle handle, Span<byte> address, out int length) =>
        GetName(handle, address, peer: true, out length);

    /// <summary><c>bind</c>.</summary>
    public static int Bind(SafeHandle handle, ReadOnlySpan<byte> address)
    {
        fixed (byte* pointer = address)
        {
            return bind(handle, (sockaddr*)pointer, (uint)address.Length) == 0 ? 0 : Errno.Last;
        }
    }

    /// <summary><c>listen</c>.</summary>
    public static int Listen(SafeHandle handle, int backlog) => listen(handle, backlog) == 0 ? 0 : Errno.Last;

    /// <summary>
    /// <c>connect</c> on a non-blocking socket. Returns 0 when the connection is established or in progress
    /// (<c>EINPROGRESS</c>, or <c>EINTR</c>, after which the kernel continues the connect asynchronously);
    /// completion is signalled by writability and read with <see cref="TakeError"/>. Any other errno is
    /// returned (a Unix stream socket returns EAGAIN when the listener's backlog is full).
    /// </summary>
    public static int Connect(SafeHandle handle, ReadOnlySpan<byte> address)
    {
        fixed (byte* pointer = address)
        {
            if (connect(handle, (sockaddr*)pointer, (uint)address.Length) == 0)
            {
                return 0;
            }

            int errno = Errno.Last;
            return errno is Errno.EINPROGRESS or Errno.EINTR ? 0 : errno;
        }
    }

    private static int GetName(SafeHandle handle, Span<byte> address, bool peer, out int length)
    {
        fixed (byte* pointer = address)
        {
            socklen_t size = (uint)address.Length;
            bool failed = (peer ? getpeername(handle, (sockaddr*)pointer, &size) : getsockname(handle, (sockaddr*)pointer, &size)) != 0;
            length = failed ? 0 : Math.Min((int)(uint)size, address.Length);
            return failed ? Errno.Last : 0;
        }
    }
}
