using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking TCP connection (IPv4 or IPv6) that can be registered with a <see cref="Poll"/>. Reads and
/// writes are <c>Try…</c> calls that return <see langword="false"/> instead of blocking and allocate nothing.
/// This is mio's <c>TcpStream</c>.
/// </summary>
/// <remarks>
/// <para><b>Connecting</b> never blocks: <see cref="Connect"/> returns at once with the connection in
/// progress. Register the stream for <see cref="Interest.Writable"/>; when the event arrives, call
/// <see cref="TryFinishConnect"/>: <see langword="true"/> means connected, <see langword="false"/> means the
/// handshake is still running (wait for the next event), and a failure (e.g.
/// <see cref="SocketError.ConnectionRefused"/>) throws a <see cref="SocketException"/> that names the endpoint.
/// This is mio's protocol (<see cref="TakeError"/>, then <see cref="RemoteEndPoint"/>) in one call; see the example.</para>
/// <para><b>Handing over</b>: <see cref="ToSocket"/> and <see cref="ToStream"/> give the connection to code that
/// wants a <see cref="Socket"/> or a <see cref="Stream"/>; <see cref="FromSocket"/> takes one over.</para>
/// <para><b>Reading and writing</b>: <see cref="TryRead(Span{byte}, out int)"/> returns <see langword="true"/>
/// with 0 bytes at end of stream (the peer shut down writing or closed); <see cref="TryWrite(ReadOnlySpan{byte}, out int)"/>
/// may write fewer bytes than given (keep the rest and write it on the next writable event). With
/// <see cref="Trigger.Edge"/> (the default), keep calling until they return <see langword="false"/> before
/// waiting again. Writes never raise <c>SIGPIPE</c>; a write to a reset connection throws
/// <see cref="SocketException"/> (<see cref="SocketError.ConnectionReset"/> or <see cref="SocketError.Shutdown"/>).
/// The overloads over several buffers use one <c>recvmsg</c>/<c>sendmsg</c> call.</para>
/// <para><b>Errors</b>: "would block" is <see langword="false"/>, never an exception; interrupted calls are
/// retried; other failures throw <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/>
/// matches the errno. After <see cref="Dispose"/> (idempotent; it closes the socket and removes it from its
/// Poll) every member throws <see cref="ObjectDisposedException"/>.</para>
/// <para><b>Thread safety</b>: one reader and one writer may use a stream concurrently (as with sockets in
/// general); option setters and <see cref="Dispose"/> may be called from any thread.</para>
/// </remarks>
/// <example>
/// Connect without blocking, then send a request and read the reply:
/// <code>
/// const Token Client = (Token)1;
/// using var poll = new Poll();
/// var events = new Events(16);
/// using var stream = TcpStream.Connect(new IPEndPoint(IPAddress.Loopback, 9000));
/// poll.Registry.Register(stream, Client, Interest.Readable | Interest.Writable);
///
/// bool connected = false;
/// byte[] buffer = new byte[4096];
/// while (true)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         if (!connected &amp;&amp; ev.IsWritable)
///         {
///             if (!stream.TryFinishConnect()) continue;   // not yet: wait again (a refused connect throws)
///             connected = true;
///             stream.TryWrite("ping\n"u8, out _);
///         }
///         if (ev.IsReadable)
///         {
///             while (stream.TryRead(buffer, out int n))
///             {
///                 if (n == 0) return;                                   // peer closed
///                 Console.Write(Encoding.UTF8.GetString(buffer, 0, n));
///             }
///         }
///     }
/// }
/// </code>
/// </example>
public sealed partial class TcpStream : ISource, IDisposable
{
    private SocketCore _core;

    internal TcpStream(FdHandle handle, AddressFamily family)
    {
        _core = new SocketCore(handle);
        AddressFamily = family;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>This end's address (after <see cref="Connect"/>, the kernel assigns it while connecting).</summary>
    public IPEndPoint LocalEndPoint => _core.GetIPEndPoint(peer: false, this);

    /// <summary>The peer's address.</summary>
    /// <exception cref="SocketException">With <see cref="SocketError.NotConnected"/> while a non-blocking connect
    /// is still in progress (or after it failed, or after the connection was reset).</exception>
    public IPEndPoint RemoteEndPoint => _core.GetIPEndPoint(peer: true, this);

    /// <summary>
    /// The socket descriptor, for your own system calls: <c>(int)Handle.DangerousGetHandle()</c>, bracketed by
    /// <c>DangerousAddRef</c>/<c>DangerousRelease</c> if another thread may dispose the stream. The stream owns
    /// it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _core.Handle;

    /// <summary><c>TCP_NODELAY</c>: send small writes at once instead of coalescing them (Nagle's algorithm off).</summary>
    public bool NoDelay
    {
        get => _core.GetFlag(LibC.IPPROTO_TCP, LibC.TCP_NODELAY, "TCP_NODELAY", this);
        set => _core.SetFlag(LibC.IPPROTO_TCP, LibC.TCP_NODELAY, value, "TCP_NODELAY", this);
    }

    /// <summary>
    /// <c>SO_KEEPALIVE</c>: probe an idle connection so that a vanished peer is eventually detected (the timing
    /// follows the system's <c>net.ipv4.tcp_keepalive_*</c> settings).
    /// </summary>
    public bool KeepAlive
    {
        get => _core.GetFlag(LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, "SO_KEEPALIVE", this);
        set => _core.SetFlag(LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, value, "SO_KEEPALIVE", this);
    }

    /// <summary>
    /// <c>SO_LINGER</c>: <see langword="null"/> (the default) closes gracefully in the background;
    /// <see cref="TimeSpan.Zero"/> makes <see cref="Dispose"/> reset the connection (the peer sees
    /// <see cref="SocketError.ConnectionReset"/>) and discard unsent data; a positive time (rounded up to whole
    /// seconds) makes <see cref="Dispose"/> block — even on this non-blocking socket, that is Linux — until the
    /// unsent data is delivered or the time is up. An event loop wants <see langword="null"/> or zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative time.</exception>
    public TimeSpan? Linger
    {
        get
        {
            _core.Check(SocketCalls.GetLinger(_core.Live(this), out int? seconds), "read SO_LINGER of", this);
            return seconds is { } s ? TimeSpan.FromSeconds(s) : null;
        }

        set
        {
            int? seconds = null;
            if (value is { } time)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(time, TimeSpan.Zero, nameof(Linger));
                seconds = (int)Math.Min(Math.Ceiling(time.TotalSeconds), int.MaxValue);
            }

            _core.Check(SocketCalls.SetLinger(_core.Live(this), seconds), $"set SO_LINGER to {value?.ToString() ?? "off"} on", this);
        }
    }

    /// <summary><c>SO_RCVBUF</c>, in bytes. Linux doubles the value you set (for its bookkeeping) and reports the doubled value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value less than 1.</exception>
    public int ReceiveBufferSize
    {
        get => _core.GetBufferSize(receive: true, this);
        set => _core.SetBufferSize(receive: true, value, this);
    }

    /// <summary><c>SO_SNDBUF</c>, in bytes. Linux doubles the value you set and reports the doubled value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value less than 1.</exception>
    public int SendBufferSize
    {
        get => _core.GetBufferSize(receive: false, this);
        set => _core.SetBufferSize(receive: false, value, this);
    }

    /// <summary>The time-to-live (IPv4 <c>IP_TTL</c>) or hop limit (IPv6 <c>IPV6_UNICAST_HOPS</c>) of sent packets; 1 to 255.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1..255.</exception>
    public int Ttl
    {
        get => _core.GetTtl(AddressFamily, this);
        set => _core.SetTtl(AddressFamily, value, this);
    }

    /// <summary>
    /// Starts connecting to <paramref name="endpoint"/> and returns at once, before the handshake completes.
    /// Register the stream for <see cref="Interest.Writable"/>; on the event, <see cref="TryFinishConnect"/> tells
    /// whether the connection succeeded (see the class example).
    /// </summary>
    /// <param name="endpoint">An IPv4 or IPv6 address and port.</param>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="SocketException">The kernel refused at once, e.g. <see cref="SocketError.NetworkUnreachable"/>.
    /// A refused connection is usually reported later, by <see cref="TryFinishConnect"/>.</exception>
    public static TcpStream Connect(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        AddressFamily family = TcpListener.IPFamily(endpoint, nameof(endpoint));
        FdHandle handle = SocketCalls.Create(family, LibC.SOCK_STREAM, $"create a TCP socket to connect to {endpoint}");
        try
        {
            Span<byte> address = stackalloc byte[SockAddr.StorageSize];
            int length = SockAddr.Write(endpoint, family, address);
            int errno = SocketCalls.Connect(handle, address[..length]);
            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"connect a TCP stream to {endpoint}");
            }

            var stream = new TcpStream(handle, family) { _connectTarget = endpoint };
            stream.RememberPeer(address[..length]);
            return stream;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes over a TCP <see cref="Socket"/> created elsewhere (connected, or connecting): its descriptor is
    /// duplicated (close-on-exec) and made non-blocking, and <paramref name="socket"/> is disposed — from now on
    /// only this stream reads and writes the connection.
    /// </summary>
    /// <param name="socket">A TCP socket (IPv4 or IPv6) that is not listening.</param>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is not a TCP socket, or is a listening one
    /// (use <see cref="TcpListener.FromSocket"/>). It is left untouched.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static TcpStream FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        AddressFamily family = ValidateTcp(socket, nameof(socket));
        if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int listening && listening != 0)
        {
            throw new ArgumentException("The socket is listening: use TcpListener.FromSocket for it.", nameof(socket));
        }

        var stream = new TcpStream(SocketCalls.Adopt(socket, "take over a TCP Socket"), family);
        stream._core.CapturePeerName();
        return stream;
    }

    /// <summary>
    /// Reads what is available, up to <paramref name="buffer"/>'s length, without blocking. Allocates nothing.
    /// </summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="bytesRead">How many bytes were read; 0 with a <see langword="true"/> result means end of
    /// stream (the peer will send nothing more) — or that <paramref name="buffer"/> was empty.</param>
    /// <returns><see langword="false"/> if nothing is available yet (EAGAIN): wait for the next readable event.</returns>
    /// <exception cref="SocketException">The connection failed, e.g. <see cref="SocketError.ConnectionReset"/>.</exception>
    public bool TryRead(Span<byte> buffer, out int bytesRead) =>
        _core.TryReceive(buffer, 0, out bytesRead, "read from", this);

    /// <summary>
    /// Reads into several buffers in order with one system call (<c>recvmsg</c>, scatter I/O), without blocking.
    /// Allocates nothing; at most 1024 non-empty segments and <see cref="int.MaxValue"/> bytes are used per call (the count says how far it got).
    /// </summary>
    /// <param name="buffers">The segments to fill, in order; pass an array, a <c>List</c>'s span
    /// (<c>CollectionsMarshal.AsSpan</c>) or a collection expression such as <c>[header, body]</c>.</param>
    /// <param name="bytesRead">The total bytes read; 0 with <see langword="true"/> means end of stream (or that every segment was empty).</param>
    /// <returns><see langword="false"/> if nothing is available yet (EAGAIN).</returns>
    /// <exception cref="SocketException">The connection failed.</exception>
    public bool TryRead(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesRead) =>
        _core.TryVectored(VectorCall.Receive, buffers, out bytesRead, "read from", this);

    /// <summary>
    /// Writes as much of <paramref name="buffer"/> as the socket takes now, without blocking. Allocates nothing.
    /// </summary>
    /// <param name="buffer">The bytes to send.</param>
    /// <param name="bytesWritten">How many bytes were taken; may be fewer than <paramref name="buffer"/>'s length
    /// (keep the rest for the next writable event).</param>
    /// <returns><see langword="false"/> if the send buffer is full (EAGAIN): wait for a writable event.</returns>
    /// <exception cref="SocketException">The connection is gone, e.g. <see cref="SocketError.ConnectionReset"/>, or
    /// <see cref="SocketError.Shutdown"/> after the peer reset it or after <see cref="Shutdown"/> of the send side.</exception>
    public bool TryWrite(ReadOnlySpan<byte> buffer, out int bytesWritten) =>
        _core.TrySend(buffer, 0, out bytesWritten, "write to", this);

    /// <summary>
    /// Writes several buffers in order with one system call (<c>sendmsg</c>, gather I/O), without blocking —
    /// e.g. a header and a body without copying them together. Allocates nothing; at most 1024 non-empty segments and <see cref="int.MaxValue"/> bytes are used per call (the count says how far it got).
    /// </summary>
    /// <param name="buffers">The segments to send, in order.</param>
    /// <param name="bytesWritten">The total bytes taken; may be fewer than all segments hold.</param>
    /// <returns><see langword="false"/> if the send buffer is full (EAGAIN).</returns>
    /// <exception cref="SocketException">The connection is gone.</exception>
    public bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int bytesWritten) =>
        _core.TryVectored(VectorCall.Send, buffers, out bytesWritten, "write to", this);

    /// <summary>
    /// Like <see cref="TryRead(Span{byte}, out int)"/> but leaves the bytes in the socket (<c>MSG_PEEK</c>): the
    /// next read returns them again.
    /// </summary>
    /// <exception cref="SocketException">The connection failed.</exception>
    public bool TryPeek(Span<byte> buffer, out int bytesRead) =>
        _core.TryReceive(buffer, LibC.MSG_PEEK, out bytesRead, "peek at", this);

    /// <summary>
    /// Shuts down reading, writing or both (<c>shutdown</c>). After <see cref="SocketShutdown.Send"/> the peer
    /// reads end of stream once it has consumed the data sent before, and this side can still read — a
    /// half-close. Further writes throw <see cref="SocketException"/> (<see cref="SocketError.Shutdown"/>).
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.NotConnected"/> while a <see cref="Connect"/> is still in
    /// progress (Linux would silently abort the attempt) or when not connected; other errors as the kernel reports them.</exception>
    public void Shutdown(SocketShutdown how)
    {
        ThrowIfConnecting($"shut down ({how})");
        _core.Check(SocketCalls.Shutdown(_core.Live(this), how), $"shut down ({how}) the connection of", this);
    }

    /// <summary>
    /// Reads and clears the socket's pending error (<c>SO_ERROR</c>): <see cref="SocketError.Success"/> when
    /// there is none. After a non-blocking <see cref="Connect"/> this is how the outcome is learned — call it
    /// on the writable event.
    /// </summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once; later calls do nothing) and removes it from its Poll.</summary>
    public void Dispose() => _core.Close();

    /// <summary>
    /// Returns e.g. <c>TcpStream(fd 9 -> 127.0.0.1:9000)</c> (the peer it was accepted from or connects to), or
    /// <c>TcpStream(disposed)</c>. Makes no system call, so it works when descriptors are exhausted.
    /// </summary>
    public override string ToString() => _core.IsDisposed
        ? "TcpStream(disposed)"
        : $"TcpStream(fd {_core.Fd} -> {_core.PeerName ?? "unknown peer"})";

    /// <summary>Remembers the peer's address (from accept or connect) for <see cref="ToString"/>; no allocation.</summary>
    internal void RememberPeer(ReadOnlySpan<byte> address) => _core.SetPeer(address);

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    /// <summary>Checks that <paramref name="socket"/> is an IPv4/IPv6 TCP socket and returns its family.</summary>
    internal static AddressFamily ValidateTcp(Socket socket, string parameterName)
    {
        if (socket.SocketType != SocketType.Stream || socket.ProtocolType != ProtocolType.Tcp
            || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException(
                $"Expected a TCP socket (IPv4 or IPv6, SocketType.Stream, ProtocolType.Tcp) but got {socket.AddressFamily}/{socket.SocketType}/{socket.ProtocolType}.",
                parameterName);
        }

        return socket.AddressFamily;
    }
}
