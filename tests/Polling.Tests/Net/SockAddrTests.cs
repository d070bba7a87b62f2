using System.Net;
using System.Net.Sockets;
using FsCheck.Xunit;
using Polling.Net.Os;
using Xunit;

namespace Polling.Tests.Net;

/// <summary>The internal endpoint codecs agree byte for byte with .NET's own <see cref="SocketAddress"/> layout.</summary>
public class SockAddrTests
{
    [Theory]
    [InlineData("127.0.0.1", 9000)]
    [InlineData("0.0.0.0", 0)]
    [InlineData("255.255.255.255", 65535)]
    [InlineData("::1", 443)]
    [InlineData("fe80::1%3", 8080)]
    [InlineData("2001:db8::42", 1)]
    public void WriteMatchesSocketAddressAndReadRoundTrips(string address, int port)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), port);
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.Write(endpoint, endpoint.AddressFamily, buffer);
        SocketAddress expected = endpoint.Serialize();
        Assert.Equal(expected.Buffer.Span[..expected.Size].ToArray(), buffer[..length].ToArray());
        Assert.Equal(endpoint, SockAddr.ReadIP(buffer[..length]));
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Assert.Equal(endpoint.Address.ScopeId, SockAddr.ReadIP(buffer[..length]).Address.ScopeId);
        }
    }

    [Fact]
    public void IPv4_into_an_IPv6_socket_is_written_as_a_mapped_address()
    {
        var endpoint = new IPEndPoint(IPAddress.Parse("10.1.2.3"), 77);
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.Write(endpoint, AddressFamily.InterNetworkV6, buffer);
        Assert.Equal(SockAddr.SizeOfIn6, length);
        IPEndPoint read = SockAddr.ReadIP(buffer[..length]);
        Assert.True(read.Address.IsIPv4MappedToIPv6);
        Assert.Equal(endpoint.Address, read.Address.MapToIPv4());
        Assert.Equal(77, read.Port);
    }

    [Fact]
    public void IPv6_into_an_IPv4_socket_is_refused()
    {
        var buffer = new byte[SockAddr.StorageSize];
        var error = Assert.Throws<ArgumentException>(() => SockAddr.Write(new IPEndPoint(IPAddress.IPv6Loopback, 1), AddressFamily.InterNetwork, buffer));
        Assert.Contains("IPv4", error.Message);
    }

    [Property]
    public bool Any_IPv4_end_point_round_trips(uint address, ushort port)
    {
        var endpoint = new IPEndPoint(new IPAddress(address), port);
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.Write(endpoint, AddressFamily.InterNetwork, buffer);
        SocketAddress expected = endpoint.Serialize();
        return SockAddr.ReadIP(buffer[..length]).Equals(endpoint) && buffer[..length].SequenceEqual(expected.Buffer.Span[..expected.Size]);
    }

    [Property]
    public bool Any_IPv6_end_point_round_trips(ulong high, ulong low, ushort port, uint scope)
    {
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), high);
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 8), low);
        var endpoint = new IPEndPoint(new IPAddress(bytes, scope), port);
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.Write(endpoint, AddressFamily.InterNetworkV6, buffer);
        IPEndPoint read = SockAddr.ReadIP(buffer[..length]);
        return read.Equals(endpoint) && read.Address.ScopeId == scope;
    }

    [Theory]
    [InlineData("/tmp/app.sock")]
    [InlineData("relative.sock")]
    [InlineData("\0abstract-name")]
    public void Unix_paths_match_unix_domain_socket_end_point(string path)
    {
        Span<byte> buffer = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, buffer);
        SocketAddress expected = new UnixDomainSocketEndPoint(path).Serialize();
        Assert.Equal(expected.Buffer.Span[..expected.Size].ToArray(), buffer[..length].ToArray());

        int fromEndPoint = SockAddr.WriteUnix(new UnixDomainSocketEndPoint(path), buffer);
        Assert.Equal(length, fromEndPoint);
        Assert.Equal(new UnixDomainSocketEndPoint(path), SockAddr.ReadUnix(buffer[..length]));
    }

    [Fact]
    public void An_unnamed_unix_address_reads_as_an_empty_path()
    {
        byte[] unnamed = [1, 0];
        Assert.Equal(string.Empty, SockAddr.ReadUnix(unnamed).ToString());
    }

    [Fact]
    public void Copy_to_fills_a_caller_owned_socket_address_without_allocating()
    {
        var target = new SocketAddress(AddressFamily.InterNetworkV6, SocketAddress.GetMaximumAddressSize(AddressFamily.InterNetworkV6));
        var endpoint = new IPEndPoint(IPAddress.Parse("192.168.7.9"), 5353);
        byte[] encoded = new byte[SockAddr.StorageSize];
        int length = SockAddr.Write(endpoint, AddressFamily.InterNetwork, encoded);

        SockAddr.CopyTo(encoded.AsSpan(0, length), target); // warm
        long before = GC.GetAllocatedBytesForCurrentThread();
        SockAddr.CopyTo(encoded.AsSpan(0, length), target);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        Assert.Equal(AddressFamily.InterNetwork, target.Family);
        Assert.Equal(endpoint, new IPEndPoint(IPAddress.Any, 0).Create(target));

        var tooSmall = new SocketAddress(AddressFamily.InterNetwork, 16);
        var error = Assert.Throws<ArgumentException>(() => SockAddr.CopyTo(new byte[28], tooSmall));
        Assert.Contains("GetMaximumAddressSize", error.Message);
    }

    [Theory]
    [InlineData(104, SocketError.ConnectionReset)]
    [InlineData(32, SocketError.Shutdown)]
    [InlineData(111, SocketError.ConnectionRefused)]
    [InlineData(98, SocketError.AddressAlreadyInUse)]
    [InlineData(107, SocketError.NotConnected)]
    [InlineData(110, SocketError.TimedOut)]
    [InlineData(113, SocketError.HostUnreachable)]
    [InlineData(101, SocketError.NetworkUnreachable)]
    [InlineData(13, SocketError.AccessDenied)]
    [InlineData(22, SocketError.InvalidArgument)]
    [InlineData(90, SocketError.MessageSize)]
    [InlineData(11, SocketError.WouldBlock)]
    [InlineData(115, SocketError.InProgress)]
    [InlineData(24, SocketError.TooManyOpenSockets)]
    [InlineData(99, SocketError.AddressNotAvailable)]
    [InlineData(0, SocketError.Success)]
    [InlineData(9999, SocketError.SocketError)]
    public void ErrnoMapsToTheSocketErrorDotNetUses(int errno, SocketError expected)
    {
        Assert.Equal(expected, SocketErrors.ToSocketError(errno));
    }

    [Fact]
    public void Exceptions_name_the_operation_the_errno_and_the_socket_error()
    {
        SocketException error = SocketErrors.Exception(104, "read from TcpStream(fd 7)");
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Assert.Equal(104, error.NativeErrorCode);
        Assert.StartsWith("read from TcpStream(fd 7) failed:", error.Message);
        Assert.Contains("errno 104", error.Message);
        Assert.Contains("ConnectionReset", error.Message);

        SocketException inUse = SocketErrors.Exception(98, "bind a TCP listener to 127.0.0.1:80");
        Assert.Contains("choose another port", inUse.Message);
    }
}
