using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Net.Os;

/// <summary>
/// The socket system calls Polling.Net makes, each wrapped so that it holds a reference on the
/// <see cref="SafeHandle"/> for the duration of the call (a concurrent <c>Dispose</c> never lets it touch a
/// reused descriptor number), retries <c>EINTR</c>, and returns <c>0</c> or the errno instead of throwing.
/// Callers decide what an errno means (<see cref="SocketCore"/> turns EAGAIN into <c>false</c>).
/// Constants are the Linux values shared by x64 and arm64.
/// </summary>
internal static unsafe class SocketCalls
{
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int MSG_PEEK = 0x2;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_NOSIGNAL = 0x4000;

    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int SO_TYPE = 3;
    public const int SO_ERROR = 4;
    public const int SO_BROADCAST = 6;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_KEEPALIVE = 9;
    public const int SO_LINGER = 13;
    public const int SO_REUSEPORT = 15;
    public const int SO_PEERCRED = 17;
    public const int SO_ACCEPTCONN = 30;

    public const int IPPROTO_IP = 0;
    public const int IPPROTO_TCP = 6;
    public const int IPPROTO_UDP = 17;
    public const int IPPROTO_IPV6 = 41;

    public const int TCP_NODELAY = 1;
    public const int TCP_KEEPIDLE = 4;
    public const int TCP_KEEPINTVL = 5;
    public const int TCP_KEEPCNT = 6;

    public const int IP_TTL = 2;
    public const int IPV6_UNICAST_HOPS = 16;
    public const int IPV6_V6ONLY = 26;

    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int F_DUPFD_CLOEXEC = 1030;
    private const int O_NONBLOCK = 0x800;

    /// <summary>The kernel's <c>AF_*</c> value for a .NET address family.</summary>
    public static int Domain(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => SockAddr.AF_INET,
        AddressFamily.InterNetworkV6 => SockAddr.AF_INET6,
        AddressFamily.Unix => SockAddr.AF_UNIX,
        _ => throw new ArgumentException($"Address family {family} is not supported: use IPv4, IPv6 or Unix.", nameof(family)),
    };

    /// <summary>
    /// Creates a non-blocking, close-on-exec socket in one call (<c>SOCK_NONBLOCK|SOCK_CLOEXEC</c>).
    /// </summary>
    /// <param name="family">IPv4, IPv6 or Unix.</param>
    /// <param name="type"><see cref="SOCK_STREAM"/>, <see cref="SOCK_DGRAM"/> or <see cref="SOCK_SEQPACKET"/>.</param>
    /// <param name="purpose">For the error message, e.g. "create a TCP socket to connect to 127.0.0.1:80".</param>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public static FdHandle Create(AddressFamily family, int type, string purpose)
    {
        LinuxOnly.Check();
        int fd = socket(Domain(family), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw SocketErrors.Exception(Errno.Last, purpose);
        }

        return new FdHandle(fd);
    }

    /// <summary>A connected pair of non-blocking, close-on-exec Unix sockets (<c>socketpair</c>).</summary>
    /// <exception cref="SocketException">The kernel refused.</exception>
    public static (FdHandle First, FdHandle Second) CreatePair(int type, string purpose)
    {
        LinuxOnly.Check();
        int* fds = stackalloc int[2];
        if (socketpair(SockAddr.AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
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
        SafeSocketHandle original = socket.SafeHandle;
        bool added = false;
        int duplicate;
        try
        {
            original.DangerousAddRef(ref added);
            duplicate = fcntl((int)original.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
            if (duplicate < 0)
            {
                throw SocketErrors.Exception(Errno.Last, purpose);
            }
        }
        finally
        {
            if (added)
            {
                original.DangerousRelease();
            }
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
        int fd = Enter(handle);
        try
        {
            int flags = fcntl(fd, F_GETFL);
            if (flags < 0 || ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
            {
                return Errno.Last;
            }

            return 0;
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><c>shutdown</c>.</summary>
    public static int Shutdown(SafeHandle handle, SocketShutdown how)
    {
        int native = how switch
        {
            SocketShutdown.Receive => 0,
            SocketShutdown.Send => 1,
            SocketShutdown.Both => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "Give SocketShutdown.Receive, Send or Both."),
        };
        int fd = Enter(handle);
        try
        {
            return shutdown(fd, native) == 0 ? 0 : Errno.Last;
        }
        finally
        {
            handle.DangerousRelease();
        }
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
        int fd = Enter(handle);
        try
        {
            fixed (byte* pointer = value)
            {
                socklen_t size = (uint)value.Length;
                if (getsockopt(fd, level, name, pointer, &size) != 0)
                {
                    length = 0;
                    return Errno.Last;
                }

                length = (int)(uint)size;
                return 0;
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><c>setsockopt</c> from raw bytes.</summary>
    public static int SetOption(SafeHandle handle, int level, int name, ReadOnlySpan<byte> value)
    {
        int fd = Enter(handle);
        try
        {
            fixed (byte* pointer = value)
            {
                return setsockopt(fd, level, name, pointer, (uint)value.Length) == 0 ? 0 : Errno.Last;
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><c>SO_LINGER</c>: <see langword="null"/> when lingering is off, else the linger time in seconds.</summary>
    public static int GetLinger(SafeHandle handle, out int? seconds)
    {
        LingerValue value = default;
        int errno = GetOption(handle, SOL_SOCKET, SO_LINGER, new Span<byte>(&value, sizeof(LingerValue)), out _);
        seconds = value.OnOff != 0 ? value.Seconds : null;
        return errno;
    }

    /// <summary>Sets <c>SO_LINGER</c>: <see langword="null"/> turns lingering off.</summary>
    public static int SetLinger(SafeHandle handle, int? seconds)
    {
        var value = new LingerValue { OnOff = seconds.HasValue ? 1 : 0, Seconds = seconds ?? 0 };
        return SetOption(handle, SOL_SOCKET, SO_LINGER, new ReadOnlySpan<byte>(&value, sizeof(LingerValue)));
    }

    /// <summary><c>SO_PEERCRED</c>: the process, user and group of the peer of a Unix socket (as of connect/socketpair).</summary>
    public static int GetPeerCredentials(SafeHandle handle, out int processId, out uint userId, out uint groupId)
    {
        Credentials value = default;
        int errno = GetOption(handle, SOL_SOCKET, SO_PEERCRED, new Span<byte>(&value, sizeof(Credentials)), out _);
        processId = value.Pid;
        userId = value.Uid;
        groupId = value.Gid;
        return errno;
    }

    /// <summary>Reads and clears the pending socket error (<c>SO_ERROR</c>): 0 when there is none.</summary>
    public static int TakeError(SafeHandle handle, out int pendingErrno) =>
        GetOption(handle, SOL_SOCKET, SO_ERROR, out pendingErrno);

    /// <summary><c>getsockname</c> into <paramref name="address"/> (at least <see cref="SockAddr.StorageSize"/> bytes).</summary>
    public static int GetSocketName(SafeHandle handle, Span<byte> address, out int length) =>
        GetName(handle, address, peer: false, out length);

    /// <summary><c>getpeername</c> into <paramref name="address"/>; ENOTCONN until connected.</summary>
    public static int GetPeerName(SafeHandle handle, Span<byte> address, out int length) =>
        GetName(handle, address, peer: true, out length);

    /// <summary><c>bind</c>.</summary>
    public static int Bind(SafeHandle handle, ReadOnlySpan<byte> address)
    {
        int fd = Enter(handle);
        try
        {
            fixed (byte* pointer = address)
            {
                return bind(fd, (sockaddr*)pointer, (uint)address.Length) == 0 ? 0 : Errno.Last;
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary><c>listen</c>.</summary>
    public static int Listen(SafeHandle handle, int backlog)
    {
        int fd = Enter(handle);
        try
        {
            return listen(fd, backlog) == 0 ? 0 : Errno.Last;
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>
    /// <c>connect</c> on a non-blocking socket. Returns 0 when the connection is established or in progress
    /// (<c>EINPROGRESS</c>, or <c>EINTR</c>, after which the kernel continues the connect asynchronously);
    /// completion is signalled by writability and read with <see cref="TakeError"/>. Any other errno is
    /// returned (a Unix stream socket returns EAGAIN when the listener's backlog is full).
    /// </summary>
    public static int Connect(SafeHandle handle, ReadOnlySpan<byte> address)
    {
        int fd = Enter(handle);
        try
        {
            fixed (byte* pointer = address)
            {
                if (connect(fd, (sockaddr*)pointer, (uint)address.Length) == 0)
                {
                    return 0;
                }

                int errno = Errno.Last;
                return errno is SocketErrors.EINPROGRESS or SocketErrors.EINTR ? 0 : errno;
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    private static int GetName(SafeHandle handle, Span<byte> address, bool peer, out int length)
    {
        int fd = Enter(handle);
        try
        {
            fixed (byte* pointer = address)
            {
                socklen_t size = (uint)address.Length;
                int result = peer
                    ? getpeername(fd, (sockaddr*)pointer, &size)
                    : getsockname(fd, (sockaddr*)pointer, &size);
                if (result != 0)
                {
                    length = 0;
                    return Errno.Last;
                }

                length = Math.Min((int)(uint)size, address.Length);
                return 0;
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>Adds a reference to <paramref name="handle"/> (throws <see cref="ObjectDisposedException"/> if it is closed) and returns its descriptor; pair with <c>DangerousRelease</c>.</summary>
    internal static int Enter(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        return (int)handle.DangerousGetHandle();
    }

    /// <summary><c>struct linger</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LingerValue
    {
        public int OnOff;
        public int Seconds;
    }

    /// <summary><c>struct ucred</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Credentials
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }
}
