using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

// Connect completion and the hand-off to System.Net.Sockets.
// (A separate file of the partial class: TcpStream.cs holds the I/O paths.)
public sealed partial class TcpStream
{
    private const int StateUnknown = 0, StateConnected = 1, StateFailed = 2;

    // Linux TCP states (include/net/tcp_states.h) as TCP_INFO's first byte reports them.
    private const int TcpSynSent = 2;   // TCP_SYN_SENT in tcp_info.tcpi_state

    /// <summary>Where <see cref="Connect"/> was asked to connect; <see langword="null"/> for accepted or adopted streams.</summary>
    private IPEndPoint? _connectTarget;

    private int _connectState;
    private int _connectErrno;

    /// <summary>
    /// Says in one call whether the connection is established: <see langword="true"/> once the handshake has
    /// finished, <see langword="false"/> while it is still running, and a <see cref="SocketException"/> if it
    /// failed. Call it on the writable event after <see cref="Connect"/>; it allocates nothing.
    /// </summary>
    /// <remarks>
    /// <para>This is mio's protocol in one call — read <c>SO_ERROR</c> (mio's <c>take_error</c>), then ask for
    /// the peer address (mio's <c>peer_addr</c>) — with the answer .NET's <c>Socket.ConnectAsync</c> gives: done,
    /// or a <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> says why (e.g.
    /// <see cref="SocketError.ConnectionRefused"/>, <see cref="SocketError.TimedOut"/>,
    /// <see cref="SocketError.HostUnreachable"/>) and whose message names the endpoint.</para>
    /// <para><see langword="false"/> means the event was early or spurious (allowed; see docs/design.md): wait for the
    /// next writable event. Once it returned <see langword="true"/> it keeps returning <see langword="true"/>
    /// without a system call (a later reset surfaces on the next read or write); once it threw, it throws the same
    /// error again. An accepted stream, or one from <see cref="FromSocket"/>, is connected: <see langword="true"/>.</para>
    /// </remarks>
    /// <returns><see langword="true"/> when connected; <see langword="false"/> while the handshake is in progress.</returns>
    /// <exception cref="SocketException">The connection attempt failed; or the stream is not connecting at all
    /// (<see cref="SocketError.NotConnected"/>: e.g. its error was already taken with <see cref="TakeError"/>).</exception>
    /// <example>
    /// <code>
    /// const Token Client = (Token)1;
    /// bool connected = false;
    /// using var stream = TcpStream.Connect(new IPEndPoint(IPAddress.Loopback, 9000));
    /// poll.Registry.Register(stream, Client, Interest.Readable | Interest.Writable);
    /// // in the loop, for token Client:
    /// if (!connected &amp;&amp; ev.IsWritable)
    /// {
    ///     if (!stream.TryFinishConnect()) return;     // not yet: wait for the next event
    ///     connected = true;                          // (a failure threw: "connect ... to 127.0.0.1:9000 failed: Connection refused ...")
    /// }
    /// </code>
    /// </example>
    public bool TryFinishConnect()
    {
        FdHandle handle = _core.Live(this);
        switch (Volatile.Read(ref _connectState))
        {
            case StateConnected:
                return true;
            case StateFailed:
                throw ConnectFailed(_connectErrno);
        }

        int pending = _core.TakePendingErrno(this);          // (rearms, as reading SO_ERROR must for poll(2))
        if (pending != 0)
        {
            _connectErrno = pending;
            Volatile.Write(ref _connectState, StateFailed);
            throw ConnectFailed(pending);
        }

        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int errno = SocketCalls.GetPeerName(handle, address, out int length);
        if (errno == 0)
        {
            Volatile.Write(ref _connectState, StateConnected);
            return true;
        }

        if (errno != Errno.ENOTCONN)
        {
            throw _core.Failure(errno, $"read the peer address (getpeername) of {this}");
        }

        if (IsConnecting(handle))
        {
            return false;                                     // TakePendingErrno rearmed Writable for poll(2)
        }

        throw new SocketException((int)SocketError.NotConnected,
            $"{this} is not connecting: the connection attempt already ended and its error was taken (TakeError), or the connection was closed. Dispose it and connect again.");
    }

    /// <summary>
    /// Hands the connection to <see cref="System.Net.Sockets"/>: returns a <see cref="Socket"/> that owns the
    /// descriptor, and this stream is deregistered from its <see cref="Poll"/> and disposed. The socket is in
    /// blocking mode (<see cref="Socket.Blocking"/> = <see langword="true"/>, what a new <see cref="Socket"/> is):
    /// its synchronous calls block and its async calls work as usual. No descriptor is created or duplicated.
    /// </summary>
    /// <remarks>Data already received stays in the socket and is read by the <see cref="Socket"/>. Do not use this
    /// stream on another thread while handing it over. The way back is <see cref="FromSocket"/>.</remarks>
    /// <example>
    /// <code>
    /// Socket socket = stream.ToSocket();                     // stream is now disposed
    /// await socket.SendAsync("hello"u8.ToArray());
    /// </code>
    /// </example>
    /// <exception cref="SocketException">The kernel refused to switch the descriptor to blocking mode (the
    /// connection is closed then).</exception>
    public Socket ToSocket() => StreamHandoff.ToSocket(ref _core, this);

    /// <summary>
    /// Hands the connection to code that wants a <see cref="Stream"/>: <see cref="ToSocket"/> wrapped in a
    /// <see cref="NetworkStream"/> that owns the socket (disposing the stream closes the connection).
    /// </summary>
    /// <example>
    /// <code>
    /// using NetworkStream network = stream.ToStream();        // e.g. for SslStream, a StreamReader, CopyToAsync
    /// using var reader = new StreamReader(network);
    /// string? line = reader.ReadLine();
    /// </code>
    /// </example>
    /// <exception cref="SocketException">As for <see cref="ToSocket"/>.</exception>
    public NetworkStream ToStream() => new(ToSocket(), ownsSocket: true);

    /// <summary>Throws <see cref="SocketError.NotConnected"/> while the handshake of <see cref="Connect"/> is still running.</summary>
    private void ThrowIfConnecting(string action)
    {
        if (Volatile.Read(ref _connectState) == StateConnected)
        {
            return;
        }

        if (IsConnecting(_core.Live(this)))
        {
            string to = _connectTarget is { } target ? $" to {target}" : "";
            throw new SocketException((int)SocketError.NotConnected,
                $"Cannot {action} {this}: the connection{to} is still being established. Wait for the writable event and TryFinishConnect() returning true, or Dispose the stream to abandon the attempt.");
        }
    }

    /// <summary>Whether the kernel's TCP state is SYN_SENT (first byte of <c>TCP_INFO</c>).</summary>
    private bool IsConnecting(FdHandle handle) =>
        SocketCalls.GetOption(handle, LibC.IPPROTO_TCP, LibC.TCP_INFO, out int info) == 0 && (info & 0xFF) == TcpSynSent;

    private SocketException ConnectFailed(int errno) =>
        SocketErrors.Exception(errno, $"connect {this}");      // ToString names the endpoint it connects to
}
