using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking TCP listening socket (IPv4 or IPv6) that can be registered with a <see cref="Poll"/>:
/// it becomes readable when connections are waiting, and <see cref="TryAccept(out TcpStream)"/> takes them
/// one at a time until it returns <see langword="false"/>. This is mio's <c>TcpListener</c>.
/// </summary>
/// <remarks>
/// <para>The socket is created non-blocking and close-on-exec in one system call, with <c>SO_REUSEADDR</c>;
/// accepted streams are non-blocking and close-on-exec from birth (<c>accept4</c>). With
/// <see cref="Trigger.Edge"/> (the default), accept until <see cref="TryAccept(out TcpStream)"/> returns
/// <see langword="false"/> on every readable event, or connections that arrived meanwhile wait unnoticed.</para>
/// <para><see cref="Dispose"/> closes the socket (once) and removes it from its Poll. Registering a disposed
/// listener throws <see cref="ObjectDisposedException"/>. Operating-system failures throw
/// <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> says what happened.</para>
/// <para>Thread safety: the members may be called from several threads; a typical program uses one listener
/// per loop thread (see <see cref="TcpListenerOptions.ReusePort"/>).</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> matches the
/// errno, with a message naming the operation and the socket. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Server = (Token)0;
/// using var poll = new Poll();
/// using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 9000));
/// poll.Registry.Register(listener, Server, Interest.Readable);
/// var connections = new List&lt;TcpStream&gt;();
/// var events = new Events(256);
/// while (true)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         if (ev.Token != Server) continue;
///         while (listener.TryAccept(out TcpStream stream, out IPEndPoint remote))
///         {
///             Console.WriteLine($"accepted {remote}");
///             stream.NoDelay = true;
///             poll.Registry.Register(stream, (Token)(connections.Count + 1), Interest.Readable);
///             connections.Add(stream);
///         }
///     }
/// }
/// </code>
/// </example>
public sealed class TcpListener : ISource, IDisposable
{
    private SocketCore _core;

    private TcpListener(FdHandle handle, AddressFamily family)
    {
        _core = new SocketCore(handle);
        _core.CaptureLocalName();
        AddressFamily = family;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>The address the listener is bound to; after binding port 0 this tells the port the kernel chose.</summary>
    public IPEndPoint LocalEndPoint => _core.GetIPEndPoint(peer: false, this);

    /// <summary>
    /// The socket descriptor, for your own system calls (e.g. <c>setsockopt</c> of an option Polling does not
    /// wrap): <c>(int)Handle.DangerousGetHandle()</c>, bracketed by <c>DangerousAddRef</c>/<c>DangerousRelease</c>
    /// if another thread may dispose the listener. The listener owns it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _core.Handle;

    /// <summary>
    /// The time-to-live (IPv4) or hop limit (IPv6) of packets sent by accepted connections; 1 to 255.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1..255.</exception>
    public int Ttl
    {
        get => _core.GetTtl(AddressFamily, this);
        set => _core.SetTtl(AddressFamily, value, this);
    }

    /// <summary>
    /// Binds a listening TCP socket to <paramref name="endpoint"/> with <c>SO_REUSEADDR</c> and a backlog of
    /// 1024. Port 0 lets the kernel choose a free port (read it from <see cref="LocalEndPoint"/>).
    /// </summary>
    /// <param name="endpoint">An IPv4 or IPv6 address and port, e.g. <c>new IPEndPoint(IPAddress.Loopback, 9000)</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="SocketException">The kernel refused: e.g. <see cref="SocketError.AddressAlreadyInUse"/>
    /// when another socket listens there, <see cref="SocketError.AccessDenied"/> for a privileged port.</exception>
    public static TcpListener Bind(IPEndPoint endpoint) => Bind(endpoint, TcpListenerOptions.Default);

    /// <summary>
    /// Binds a listening TCP socket to <paramref name="endpoint"/> with <c>SO_REUSEADDR</c> and the given
    /// backlog, <c>SO_REUSEPORT</c> and dual-stack settings.
    /// </summary>
    /// <param name="endpoint">An IPv4 or IPv6 address and port.</param>
    /// <param name="options">Backlog, ReusePort and DualMode; see <see cref="TcpListenerOptions"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><see cref="TcpListenerOptions.DualMode"/> with an IPv4 endpoint.</exception>
    public static TcpListener Bind(IPEndPoint endpoint, TcpListenerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        AddressFamily family = IPFamily(endpoint, nameof(endpoint));
        if (options.DualMode && family != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException(
                $"DualMode accepts IPv4 and IPv6 on one IPv6 socket, but {endpoint} is IPv4: bind IPAddress.IPv6Any (or another IPv6 address) instead, or leave DualMode off.",
                nameof(options));
        }

        FdHandle handle = SocketCalls.Create(family, LibC.SOCK_STREAM, $"create a TCP socket to listen on {endpoint}");
        try
        {
            string where = $"the TCP listener for {endpoint}";
            Set(handle, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1, "SO_REUSEADDR", where);
            if (options.ReusePort)
            {
                Set(handle, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1, "SO_REUSEPORT", where);
            }

            if (family == AddressFamily.InterNetworkV6)
            {
                Set(handle, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, options.DualMode ? 0 : 1, "IPV6_V6ONLY", where);
            }

            Span<byte> address = stackalloc byte[SockAddr.StorageSize];
            int length = SockAddr.Write(endpoint, family, address);
            int errno = SocketCalls.Bind(handle, address[..length]);
            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"bind a TCP listener to {endpoint}");
            }

            errno = SocketCalls.Listen(handle, options.Backlog);
            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"listen on {endpoint}");
            }

            return new TcpListener(handle, family);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes over a listening <see cref="Socket"/> created elsewhere (e.g. by a framework or handed down by
    /// systemd): its descriptor is duplicated (close-on-exec) and made non-blocking, and
    /// <paramref name="socket"/> is disposed — from now on this listener owns the connection queue.
    /// </summary>
    /// <param name="socket">A bound, listening TCP socket (IPv4 or IPv6).</param>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is not a TCP socket, or is not listening
    /// (call <c>Listen()</c> first). It is left untouched.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static TcpListener FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        AddressFamily family = TcpStream.ValidateTcp(socket, nameof(socket));
        if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is not int listening || listening == 0)
        {
            throw new ArgumentException(
                "The socket is not listening: call Bind and Listen on it first, or use TcpStream.FromSocket for a connection.", nameof(socket));
        }

        return new TcpListener(SocketCalls.Adopt(socket, "take over a listening Socket"), family);
    }

    /// <summary>
    /// Accepts one waiting connection without blocking. Allocates only the new <see cref="TcpStream"/>.
    /// </summary>
    /// <param name="stream">The accepted connection (non-blocking, close-on-exec, not registered), or
    /// <see langword="null"/> when none is waiting.</param>
    /// <returns><see langword="true"/> if a connection was accepted; <see langword="false"/> when none is
    /// waiting (EAGAIN) — wait for the next readable event.</returns>
    /// <exception cref="SocketException">The kernel refused, e.g. <see cref="SocketError.TooManyOpenSockets"/>
    /// when the process ran out of descriptors, or <see cref="SocketError.ConnectionAborted"/> when the peer
    /// gave up before it was accepted (accept again).</exception>
    public bool TryAccept([MaybeNullWhen(false)] out TcpStream stream)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryAccept(address, out int length, out FdHandle? accepted, this))
        {
            stream = null;
            return false;
        }

        stream = new TcpStream(accepted!, AddressFamily);
        stream.RememberPeer(address[..length]);
        return true;
    }

    /// <summary>
    /// Accepts one waiting connection without blocking and tells who connected. Allocates the new
    /// <see cref="TcpStream"/> and the <paramref name="remote"/> endpoint.
    /// </summary>
    /// <param name="stream">The accepted connection, or <see langword="null"/> when none is waiting.</param>
    /// <param name="remote">The peer's address (IPv4-mapped IPv6 for IPv4 peers of a dual-mode listener), or
    /// <see langword="null"/> when none is waiting.</param>
    /// <returns><see langword="true"/> if a connection was accepted; <see langword="false"/> on EAGAIN.</returns>
    public bool TryAccept([MaybeNullWhen(false)] out TcpStream stream, [MaybeNullWhen(false)] out IPEndPoint remote)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryAccept(address, out int length, out FdHandle? accepted, this))
        {
            stream = null;
            remote = null;
            return false;
        }

        stream = new TcpStream(accepted!, AddressFamily);
        stream.RememberPeer(address[..length]);
        remote = SockAddr.ReadIP(address[..length]);
        return true;
    }

    /// <summary>Reads and clears the listener's pending error (<c>SO_ERROR</c>); <see cref="SocketError.Success"/> when there is none.</summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once; later calls do nothing) and removes it from its Poll.</summary>
    public void Dispose() => _core.Close();

    /// <summary>Returns e.g. <c>TcpListener(fd 7, 127.0.0.1:9000)</c>, or <c>TcpListener(disposed)</c>. Makes no system call.</summary>
    public override string ToString() =>
        _core.IsDisposed ? "TcpListener(disposed)" : $"TcpListener(fd {_core.Fd}, {_core.LocalName})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    internal static AddressFamily IPFamily(IPEndPoint endpoint, string parameterName) => endpoint.AddressFamily switch
    {
        AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 => endpoint.AddressFamily,
        _ => throw new ArgumentException($"The endpoint {endpoint} is neither IPv4 nor IPv6.", parameterName),
    };

    private static void Set(FdHandle handle, int level, int name, int value, string option, string where)
    {
        int errno = SocketCalls.SetOption(handle, level, name, value);
        if (errno != 0)
        {
            throw SocketErrors.Exception(errno, $"set {option} on {where}");
        }
    }
}
