using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Polling.Net.Os;

/// <summary>
/// Encodes and decodes the kernel's socket addresses (<c>sockaddr_in</c>, <c>sockaddr_in6</c>,
/// <c>sockaddr_un</c>) in caller-provided buffers of <see cref="StorageSize"/> bytes (a
/// <c>sockaddr_storage</c>; <c>stackalloc</c> it). The byte layout is the one <see cref="SocketAddress"/>
/// uses on Linux, so a caller-owned <see cref="SocketAddress"/> can be filled without allocating.
/// </summary>
internal static class SockAddr
{
    /// <summary><c>sizeof(struct sockaddr_storage)</c>: room for any address.</summary>
    public const int StorageSize = 128;

    public const ushort AF_UNIX = 1;
    public const ushort AF_INET = 2;
    public const ushort AF_INET6 = 10;

    public const int SizeOfIn = 16;
    public const int SizeOfIn6 = 28;

    /// <summary><c>offsetof(struct sockaddr_un, sun_path)</c>.</summary>
    public const int UnixPathOffset = 2;

    /// <summary><c>sizeof(sun_path)</c>: 108 bytes, so a filesystem path has at most 107 bytes plus its NUL.</summary>
    public const int UnixPathCapacity = 108;

    /// <summary>The longest filesystem path, in UTF-8 bytes, that fits <c>sun_path</c> with its terminating NUL.</summary>
    public const int MaxUnixPathBytes = UnixPathCapacity - 1;

    private static readonly UnixDomainSocketEndPoint s_unixPrototype = new("/");

    /// <summary>The address family stored in an encoded address.</summary>
    public static ushort Family(ReadOnlySpan<byte> address) =>
        address.Length < 2 ? (ushort)0 : BitConverter.ToUInt16(address);

    /// <summary>
    /// Writes <paramref name="endpoint"/> as a <c>sockaddr_in</c> (IPv4 into an IPv4 socket) or
    /// <c>sockaddr_in6</c>. With <paramref name="socketFamily"/> = <see cref="AddressFamily.InterNetworkV6"/>,
    /// an IPv4 endpoint is written as its IPv4-mapped IPv6 form (<c>::ffff:a.b.c.d</c>), as a dual-stack
    /// socket needs. Returns the address length.
    /// </summary>
    /// <exception cref="ArgumentException">An IPv6 endpoint for an IPv4 socket.</exception>
    public static int Write(IPEndPoint endpoint, AddressFamily socketFamily, Span<byte> destination)
    {
        IPAddress address = endpoint.Address;
        if (address.AddressFamily == AddressFamily.InterNetwork && socketFamily != AddressFamily.InterNetworkV6)
        {
            destination[..SizeOfIn].Clear();
            WriteFamily(destination, AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)endpoint.Port);
            address.TryWriteBytes(destination.Slice(4, 4), out _);
            return SizeOfIn;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address = address.MapToIPv6();
        }
        else if (socketFamily == AddressFamily.InterNetwork)
        {
            throw new ArgumentException(
                $"The endpoint {endpoint} is IPv6 but the socket is IPv4: use an IPv4 address, or an IPv6 socket.", nameof(endpoint));
        }

        destination[..SizeOfIn6].Clear();
        WriteFamily(destination, AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)endpoint.Port);
        address.TryWriteBytes(destination.Slice(8, 16), out _);
        BitConverter.TryWriteBytes(destination.Slice(24, 4), (uint)address.ScopeId);
        return SizeOfIn6;
    }

    /// <summary>
    /// Reads a <c>sockaddr_in</c> or <c>sockaddr_in6</c>. An IPv4-mapped IPv6 address (from a dual-stack
    /// socket) stays an IPv6 address, as <see cref="Socket"/> reports it; call <see cref="IPAddress.MapToIPv4"/>
    /// to unwrap it.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not an IP address.</exception>
    public static IPEndPoint ReadIP(ReadOnlySpan<byte> address)
    {
        ushort family = Family(address);
        if (family == AF_INET && address.Length >= SizeOfIn)
        {
            return new IPEndPoint(new IPAddress(address.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
        }

        if (family == AF_INET6 && address.Length >= SizeOfIn6)
        {
            long scope = BitConverter.ToUInt32(address.Slice(24, 4));
            return new IPEndPoint(new IPAddress(address.Slice(8, 16), scope), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
        }

        throw new ArgumentException($"The kernel returned a socket address of family {family} and length {address.Length}, which is not an IP address.");
    }

    /// <summary>
    /// Writes a Unix socket path as a <c>sockaddr_un</c>. A path that starts with <c>'\0'</c> is a Linux
    /// abstract name (no file; the bytes after the NUL are the name). Returns the address length.
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, contains a NUL after its first character,
    /// or is longer than <c>sun_path</c> allows (107 UTF-8 bytes for a filesystem path, 107 name bytes for
    /// an abstract name).</exception>
    public static int WriteUnix(string path, Span<byte> destination, string parameterName = "path")
    {
        if (path.Length == 0)
        {
            throw new ArgumentException(
                "A Unix socket path cannot be empty: give a filesystem path such as \"/run/app.sock\", or \"\\0name\" for an abstract name.", parameterName);
        }

        bool isAbstract = path[0] == '\0';
        if (path.AsSpan(isAbstract ? 1 : 0).Contains('\0'))
        {
            throw new ArgumentException(
                "A Unix socket path cannot contain a NUL character (only an abstract name starts with one).", parameterName);
        }

        int byteCount = Encoding.UTF8.GetByteCount(path);
        int limit = isAbstract ? UnixPathCapacity : MaxUnixPathBytes;
        if (byteCount > limit)
        {
            throw new ArgumentException(
                $"The Unix socket path is {byteCount} bytes long in UTF-8, but the kernel's sun_path holds at most {MaxUnixPathBytes} bytes plus a terminating NUL. " +
                "Use a shorter path, e.g. bind in a short directory or chdir there and use a relative path.",
                parameterName);
        }

        destination[..(UnixPathOffset + UnixPathCapacity)].Clear();
        WriteFamily(destination, AF_UNIX);
        Encoding.UTF8.GetBytes(path, destination[UnixPathOffset..]);

        // A filesystem path keeps its NUL inside the length; an abstract name is exactly its bytes.
        return UnixPathOffset + byteCount + (isAbstract ? 0 : 1);
    }

    /// <summary>Writes a <see cref="UnixDomainSocketEndPoint"/> (path or abstract name) as a <c>sockaddr_un</c>.</summary>
    public static int WriteUnix(UnixDomainSocketEndPoint endpoint, Span<byte> destination)
    {
        SocketAddress serialized = endpoint.Serialize();
        ReadOnlySpan<byte> bytes = serialized.Buffer.Span[..serialized.Size];
        destination[..(UnixPathOffset + UnixPathCapacity)].Clear();
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    /// <summary>
    /// Reads a <c>sockaddr_un</c>: a filesystem path, an abstract name (the endpoint's path then starts with
    /// <c>'\0'</c>), or an unnamed socket (the endpoint's path is empty; its <c>ToString()</c> is "").
    /// </summary>
    public static UnixDomainSocketEndPoint ReadUnix(ReadOnlySpan<byte> address)
    {
        int length = Math.Min(address.Length, UnixPathOffset + UnixPathCapacity);
        var socketAddress = new SocketAddress(AddressFamily.Unix, Math.Max(length, UnixPathOffset));
        address[..length].CopyTo(socketAddress.Buffer.Span);
        return (UnixDomainSocketEndPoint)s_unixPrototype.Create(socketAddress);
    }

    /// <summary>
    /// Copies an encoded address into a caller-owned <see cref="SocketAddress"/> without allocating.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the address.</exception>
    public static void CopyTo(ReadOnlySpan<byte> address, SocketAddress destination)
    {
        if (address.Length > destination.Buffer.Length)
        {
            throw new ArgumentException(
                $"The SocketAddress holds {destination.Buffer.Length} bytes but the address needs {address.Length}: " +
                "create it with SocketAddress.GetMaximumAddressSize(family).", nameof(destination));
        }

        address.CopyTo(destination.Buffer.Span);
        destination.Size = address.Length;
    }

    private static void WriteFamily(Span<byte> destination, ushort family) =>
        BitConverter.TryWriteBytes(destination, family);
}
