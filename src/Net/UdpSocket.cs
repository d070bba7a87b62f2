using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking UDP socket (IPv4 or IPv6) that can be registered with a <see cref="Poll"/>: readable while
/// datagrams are queued, writable while the send buffer has room. Send and receive with the <c>Try…</c>
/// methods until they return <see langword="false"/>. This is mio's <c>UdpSocket</c>.
/// </summary>
/// <remarks>
/// <para><b>Unconnected</b> (the default): <see cref="TrySendTo(ReadOnlySpan{byte}, IPEndPoint, out int)"/>
/// and <see cref="TryReceiveFrom(Span{byte}, out int, out IPEndPoint)"/> name the peer on every datagram.
/// A server that must not allocate per datagram uses the overloads taking a caller-owned
/// <see cref="SocketAddress"/> instead of <see cref="IPEndPoint"/>.</para>
/// <para><b>Connected</b> (after <see cref="Connect"/>): <see cref="TrySend"/>/<see cref="TryReceive"/> talk to
/// one peer, and datagrams from anyone else are dropped by the kernel. An ICMP "port unreachable" for an
/// earlier datagram is reported by the next call (or <see cref="TakeError"/>) as
/// <see cref="SocketError.ConnectionRefused"/>, and the socket shows <see cref="Event.IsError"/>.</para>
/// <para>One call moves one whole datagram. A datagram longer than the receive buffer is truncated to the
/// buffer (the rest is lost), as <c>recvfrom(2)</c> does: receive into 65,535 bytes (or the largest datagram
/// your protocol allows). An empty datagram is valid: <see langword="true"/> with 0 bytes is not end of stream.</para>
/// <para>The socket is created non-blocking and close-on-exec in one system call; <see cref="Dispose"/>
/// closes it once and removes it from its Poll. Would-block is never an exception; operating-system failures
/// throw <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> says what happened.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> matches the
/// errno, with a message naming the operation and the socket. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// An echo server that allocates nothing per datagram:
/// <code>
/// const Token Echo = (Token)0;
/// using var poll = new Poll();
/// using var socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 9001));
/// poll.Registry.Register(socket, Echo, Interest.Readable);
///
/// var events = new Events(64);
/// var buffer = new byte[65535];
/// var peer = new SocketAddress(AddressFamily.InterNetwork);
/// while (true)
/// {
///     poll.Wait(events);
///     while (socket.TryReceiveFrom(buffer, out int n, peer))
///         socket.TrySendTo(buffer.AsSpan(0, n), peer, out _);   // drops the echo if the send buffer is full
/// }
/// </code>
/// </example>
public sealed partial class UdpSocket : ISource, IDisposable
{
    private SocketCore _core;

    private UdpSocket(FdHandle handle, AddressFamily family)
    {
        _core = new SocketCore(handle);
        _core.CaptureLocalName();
        AddressFamily = family;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>The address the socket is bound to; after binding port 0 this tells the port the kernel chose.</summary>
    public IPEndPoint LocalEndPoint => _core.GetIPEndPoint(peer: false, this);

    /// <summary>The peer given to <see cref="Connect"/>.</summary>
    /// <exception cref="SocketException"><see cref="SocketError.NotConnected"/> before <see cref="Connect"/>.</exception>
    public IPEndPoint RemoteEndPoint => _core.GetIPEndPoint(peer: true, this);

    /// <summary>
    /// The socket descriptor, for your own system calls (e.g. <c>setsockopt</c> of an option Polling does not
    /// wrap): <c>(int)Handle.DangerousGetHandle()</c>, bracketed by <c>DangerousAddRef</c>/<c>DangerousRelease</c>
    /// if another thread may dispose the socket. The socket owns it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _core.Handle;

    /// <summary>Whether datagrams may be sent to broadcast addresses (<c>SO_BROADCAST</c>). Default <see langword="false"/>.</summary>
    public bool Broadcast
    {
        get => _core.GetFlag(LibC.SOL_SOCKET, LibC.SO_BROADCAST, "the broadcast option (SO_BROADCAST)", this);
        set => _core.SetFlag(LibC.SOL_SOCKET, LibC.SO_BROADCAST, value, "the broadcast option (SO_BROADCAST)", this);
    }

    /// <summary>The time-to-live (IPv4) or hop limit (IPv6) of unicast datagrams; 1 to 255 (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1..255.</exception>
    public int Ttl
    {
        get => _core.GetTtl(AddressFamily, this);
        set => _core.SetTtl(AddressFamily, value, this);
    }

    /// <summary>The kernel's receive buffer size in bytes (<c>SO_RCVBUF</c>; the kernel doubles what you set, up to <c>net.core.rmem_max</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int ReceiveBufferSize
    {
        get => _core.GetBufferSize(receive: true, this);
        set => _core.SetBufferSize(receive: true, value, this);
    }

    /// <summary>The kernel's send buffer size in bytes (<c>SO_SNDBUF</c>; the kernel doubles what you set, up to <c>net.core.wmem_max</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int SendBufferSize
    {
        get => _core.GetBufferSize(receive: false, this);
        set => _core.SetBufferSize(receive: false, value, this);
    }

    private bool IsV6 => AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>The smallest <see cref="SocketAddress"/> buffer that holds this socket's peer addresses.</summary>
    private int AddressSize => IsV6 ? SockAddr.SizeOfIn6 : SockAddr.SizeOfIn;

    /// <summary>
    /// Creates a UDP socket bound to <paramref name="endpoint"/>. Port 0 lets the kernel choose a free port
    /// (read it from <see cref="LocalEndPoint"/>); <see cref="IPAddress.Any"/> receives on every interface.
    /// An IPv6 socket speaks IPv6 only (see <see cref="UdpSocketOptions.DualMode"/>).
    /// </summary>
    /// <param name="endpoint">An IPv4 or IPv6 address and port, e.g. <c>new IPEndPoint(IPAddress.Loopback, 0)</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is neither IPv4 nor IPv6.</exception>
    /// <exception cref="SocketException">The kernel refused: e.g. <see cref="SocketError.AddressAlreadyInUse"/>
    /// when another socket is bound there, <see cref="SocketError.AddressNotAvailable"/> for an address this
    /// machine does not have.</exception>
    public static UdpSocket Bind(IPEndPoint endpoint) => Bind(endpoint, UdpSocketOptions.Default);

    /// <summary>Creates a UDP socket bound to <paramref name="endpoint"/> with address/port sharing and dual-stack settings.</summary>
    /// <param name="endpoint">An IPv4 or IPv6 address and port.</param>
    /// <param name="options">ReuseAddress, ReusePort and DualMode; see <see cref="UdpSocketOptions"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is neither IPv4 nor IPv6, or
    /// <see cref="UdpSocketOptions.DualMode"/> is set for an IPv4 endpoint.</exception>
    public static UdpSocket Bind(IPEndPoint endpoint, UdpSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        AddressFamily family = TcpListener.IPFamily(endpoint, nameof(endpoint));
        if (options.DualMode && family != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException(
                $"DualMode exchanges IPv4 and IPv6 datagrams on one IPv6 socket, but {endpoint} is IPv4: bind IPAddress.IPv6Any (or another IPv6 address) instead, or leave DualMode off.",
                nameof(options));
        }

        FdHandle handle = SocketCalls.Create(family, LibC.SOCK_DGRAM, $"create a UDP socket to bind to {endpoint}");
        try
        {
            if (options.ReuseAddress)
            {
                SetBeforeBind(handle, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1, "SO_REUSEADDR", endpoint);
            }

            if (options.ReusePort)
            {
                SetBeforeBind(handle, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1, "SO_REUSEPORT", endpoint);
            }

            if (family == AddressFamily.InterNetworkV6)
            {
                SetBeforeBind(handle, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, options.DualMode ? 0 : 1, "IPV6_V6ONLY", endpoint);
            }

            Span<byte> address = stackalloc byte[SockAddr.StorageSize];
            int length = SockAddr.Write(endpoint, family, address);
            int errno = SocketCalls.Bind(handle, address[..length]);
            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"bind a UDP socket to {endpoint}");
            }

            return new UdpSocket(handle, family);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes over a UDP <see cref="Socket"/> created elsewhere: its descriptor is duplicated (close-on-exec) and
    /// made non-blocking, and <paramref name="socket"/> is disposed — from now on this socket owns it, with the
    /// options, binding and connection it had.
    /// </summary>
    /// <param name="socket">An IPv4 or IPv6 datagram socket (bound or not).</param>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is not a UDP socket. It is left untouched.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static UdpSocket FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ObjectDisposedException.ThrowIf(socket.SafeHandle.IsClosed, socket);
        if (socket.SocketType != SocketType.Dgram
            || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException(
                $"UdpSocket.FromSocket needs an IPv4 or IPv6 datagram socket, but this one is {socket.AddressFamily}/{socket.SocketType}: " +
                "use UnixDatagram.FromSocket for Unix datagram sockets, TcpStream.FromSocket or TcpListener.FromSocket for TCP.",
                nameof(socket));
        }

        AddressFamily family = socket.AddressFamily;
        return new UdpSocket(SocketCalls.Adopt(socket, "take over a UDP Socket"), family);
    }

    /// <summary>
    /// Sends one datagram to <paramref name="target"/> without blocking. Allocates nothing (except when an IPv4
    /// target is mapped for a dual-mode IPv6 socket).
    /// </summary>
    /// <param name="datagram">The payload; empty is allowed. At most 65,507 bytes over IPv4 (65,527 over IPv6).</param>
    /// <param name="target">Where to send it.</param>
    /// <param name="bytesSent">The datagram's length when sent; 0 when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when the send buffer is full (EAGAIN): wait for a writable event, or drop the datagram.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentException">An IPv6 target for an IPv4 socket.</exception>
    /// <exception cref="SocketException">The kernel refused: e.g. <see cref="SocketError.MessageSize"/> for an
    /// oversized datagram, <see cref="SocketError.AccessDenied"/> for a broadcast address without
    /// <see cref="Broadcast"/>, <see cref="SocketError.NetworkUnreachable"/> without a route.</exception>
    public bool TrySendTo(ReadOnlySpan<byte> datagram, IPEndPoint target, out int bytesSent)
    {
        ArgumentNullException.ThrowIfNull(target);
        Span<byte> address = stackalloc byte[SockAddr.SizeOfIn6];
        int length = SockAddr.Write(target, AddressFamily, address);
        return _core.TrySendTo(datagram, address[..length], out bytesSent, "send a datagram from", this, target);
    }

    /// <summary>
    /// Sends one datagram to the address in <paramref name="target"/> without blocking and without allocating:
    /// reply to the <see cref="SocketAddress"/> filled by
    /// <see cref="TryReceiveFrom(Span{byte}, out int, SocketAddress)"/>, or to one made once with
    /// <see cref="EndPoint.Serialize"/>.
    /// </summary>
    /// <param name="datagram">The payload; empty is allowed.</param>
    /// <param name="target">An IPv4 or IPv6 socket address (its first <see cref="SocketAddress.Size"/> bytes are used).</param>
    /// <param name="bytesSent">The datagram's length when sent; 0 when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when the send buffer is full (EAGAIN).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.AddressFamilyNotSupported"/>
    /// for an IPv4 address on an IPv6 socket: map it with <see cref="IPAddress.MapToIPv6"/>).</exception>
    public bool TrySendTo(ReadOnlySpan<byte> datagram, SocketAddress target, out int bytesSent)
    {
        ArgumentNullException.ThrowIfNull(target);
        return _core.TrySendTo(datagram, target.Buffer.Span[..target.Size], out bytesSent, "send a datagram from", this, target);
    }

    /// <summary>
    /// Receives one datagram and its sender without blocking. Allocates the <paramref name="source"/> endpoint;
    /// use <see cref="TryReceiveFrom(Span{byte}, out int, SocketAddress)"/> to allocate nothing.
    /// </summary>
    /// <param name="buffer">Where to put the payload; a longer datagram is truncated to it.</param>
    /// <param name="bytesReceived">The payload length (0 for an empty datagram).</param>
    /// <param name="source">The sender (an IPv6 socket reports IPv4 senders as <c>::ffff:a.b.c.d</c>), or
    /// <see langword="null"/> when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when no datagram is queued (EAGAIN): wait for the next readable event.</returns>
    /// <exception cref="SocketException">The kernel reported an error (e.g. <see cref="SocketError.ConnectionRefused"/>
    /// on a connected socket whose peer's port is closed).</exception>
    public bool TryReceiveFrom(Span<byte> buffer, out int bytesReceived, [MaybeNullWhen(false)] out IPEndPoint source) =>
        ReceiveFrom(buffer, 0, out bytesReceived, out source, "receive a datagram on");

    /// <summary>
    /// Receives one datagram without blocking and writes its sender into <paramref name="source"/>, a
    /// <see cref="SocketAddress"/> you own and reuse: allocates nothing. Reply with
    /// <see cref="TrySendTo(ReadOnlySpan{byte}, SocketAddress, out int)"/>; turn it into an endpoint (allocating)
    /// with <c>IPEndPoint.Create</c>; copy it before keeping it (e.g. as a dictionary key).
    /// </summary>
    /// <param name="buffer">Where to put the payload; a longer datagram is truncated to it.</param>
    /// <param name="bytesReceived">The payload length (0 for an empty datagram).</param>
    /// <param name="source">Receives the sender's address and <see cref="SocketAddress.Size"/>; make it once
    /// with <c>new SocketAddress(socket.AddressFamily)</c>. Unchanged when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when no datagram is queued (EAGAIN).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is too small for this socket's addresses.</exception>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryReceiveFrom(Span<byte> buffer, out int bytesReceived, SocketAddress source) =>
        ReceiveFrom(buffer, 0, out bytesReceived, source, "receive a datagram on");

    /// <summary>
    /// Like <see cref="TryReceiveFrom(Span{byte}, out int, out IPEndPoint)"/>, but leaves the datagram queued
    /// (<c>MSG_PEEK</c>): the next receive returns it again.
    /// </summary>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryPeekFrom(Span<byte> buffer, out int bytesReceived, [MaybeNullWhen(false)] out IPEndPoint source) =>
        ReceiveFrom(buffer, LibC.MSG_PEEK, out bytesReceived, out source, "peek at a datagram on");

    /// <summary>
    /// Like <see cref="TryReceiveFrom(Span{byte}, out int, SocketAddress)"/>, but leaves the datagram queued
    /// (<c>MSG_PEEK</c>): the next receive returns it again. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is too small for this socket's addresses.</exception>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryPeekFrom(Span<byte> buffer, out int bytesReceived, SocketAddress source) =>
        ReceiveFrom(buffer, LibC.MSG_PEEK, out bytesReceived, source, "peek at a datagram on");

    /// <summary>
    /// Sets the default peer (<c>connect(2)</c> on a datagram socket: nothing is sent). Afterwards
    /// <see cref="TrySend"/>/<see cref="TryReceive"/> use it and the kernel drops datagrams from anyone else.
    /// Calling it again switches to another peer.
    /// </summary>
    /// <param name="endpoint">The peer.</param>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="ArgumentException">An IPv6 endpoint for an IPv4 socket.</exception>
    /// <exception cref="SocketException">The kernel refused (e.g. <see cref="SocketError.NetworkUnreachable"/>).</exception>
    public void Connect(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Span<byte> address = stackalloc byte[SockAddr.SizeOfIn6];
        int length = SockAddr.Write(endpoint, AddressFamily, address);
        int errno = SocketCalls.Connect(_core.Live(this), address[..length]);
        if (errno != 0)
        {
            throw _core.Failure(errno, $"connect {this} to {endpoint}");
        }
    }

    /// <summary>Sends one datagram to the peer set by <see cref="Connect"/>, without blocking. Allocates nothing.</summary>
    /// <param name="datagram">The payload; empty is allowed.</param>
    /// <param name="bytesSent">The datagram's length when sent; 0 when <see langword="false"/> is returned.</param>
    /// <returns><see langword="false"/> when the send buffer is full (EAGAIN).</returns>
    /// <exception cref="SocketException"><see cref="SocketError.DestinationAddressRequired"/> when not connected;
    /// <see cref="SocketError.ConnectionRefused"/> when an earlier datagram was refused by the peer's host.</exception>
    public bool TrySend(ReadOnlySpan<byte> datagram, out int bytesSent) =>
        _core.TrySend(datagram, 0, out bytesSent, "send a datagram from", this);

    /// <summary>
    /// Receives one datagram without blocking; on a connected socket only the peer's datagrams arrive.
    /// Allocates nothing.
    /// </summary>
    /// <param name="buffer">Where to put the payload; a longer datagram is truncated to it.</param>
    /// <param name="bytesReceived">The payload length (0 for an empty datagram).</param>
    /// <returns><see langword="false"/> when no datagram is queued (EAGAIN).</returns>
    /// <exception cref="SocketException">The kernel reported an error (e.g. <see cref="SocketError.ConnectionRefused"/>).</exception>
    public bool TryReceive(Span<byte> buffer, out int bytesReceived) =>
        _core.TryReceive(buffer, 0, out bytesReceived, "receive a datagram on", this);

    /// <summary>Like <see cref="TryReceive"/>, but leaves the datagram queued (<c>MSG_PEEK</c>).</summary>
    /// <exception cref="SocketException">The kernel reported an error.</exception>
    public bool TryPeek(Span<byte> buffer, out int bytesReceived) =>
        _core.TryReceive(buffer, LibC.MSG_PEEK, out bytesReceived, "peek at a datagram on", this);

    /// <summary>Reads and clears the socket's pending error (<c>SO_ERROR</c>); <see cref="SocketError.Success"/> when there is none.</summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once; later calls do nothing) and removes it from its Poll.</summary>
    public void Dispose() => _core.Close();

    /// <summary>Returns e.g. <c>UdpSocket(fd 7, 127.0.0.1:9001)</c>, or <c>UdpSocket(disposed)</c>. Makes no system call.</summary>
    public override string ToString() =>
        _core.IsDisposed ? "UdpSocket(disposed)" : $"UdpSocket(fd {_core.Fd}, {_core.LocalName})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    private static void SetBeforeBind(FdHandle handle, int level, int name, int value, string option, IPEndPoint endpoint)
    {
        int errno = SocketCalls.SetOption(handle, level, name, value);
        if (errno != 0)
        {
            throw SocketErrors.Exception(errno, $"set {option} on the UDP socket for {endpoint}");
        }
    }

    private bool ReceiveFrom(Span<byte> buffer, int flags, out int bytesReceived, [MaybeNullWhen(false)] out IPEndPoint source, string action)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryReceiveFrom(buffer, flags, address, out int length, out bytesReceived, action, this))
        {
            source = null;
            return false;
        }

        source = SockAddr.ReadIP(address[..length]);
        return true;
    }

    private bool ReceiveFrom(Span<byte> buffer, int flags, out int bytesReceived, SocketAddress source, string action) =>
        _core.TryReceiveFrom(buffer, flags, source, AddressSize, "new SocketAddress(socket.AddressFamily)", out bytesReceived, action, this);


}
