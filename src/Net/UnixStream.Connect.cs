using System.Net.Sockets;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

// Connect completion and the hand-off to System.Net.Sockets (TcpStream.Connect.cs has the TCP side).
public sealed partial class UnixStream
{
    /// <summary>
    /// <see langword="true"/> when the stream is connected; throws the pending error if the connection failed.
    /// The same call as <see cref="TcpStream.TryFinishConnect"/>, so code can treat both alike — but a Unix
    /// connect completes (or fails) inside <see cref="Connect(string)"/>, so this never returns
    /// <see langword="false"/>. Allocates nothing.
    /// </summary>
    /// <exception cref="SocketException">A pending error (<c>SO_ERROR</c>), or <see cref="SocketError.NotConnected"/>
    /// when the stream is not connected.</exception>
    public bool TryFinishConnect()
    {
        FdHandle handle = _core.Live(this);
        int pending = _core.TakePendingErrno(this);          // (rearms, as reading SO_ERROR must for poll(2))
        if (pending != 0)
        {
            throw SocketErrors.Exception(pending, $"connect {this}");
        }

        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int errno = SocketCalls.GetPeerName(handle, address, out _);
        if (errno == Errno.ENOTCONN)
        {
            throw new SocketException((int)SocketError.NotConnected,
                $"{this} is not connected (its peer closed, or it never was): a Unix stream does not connect later. Dispose it and connect again.");
        }

        _core.Check(errno, "read the peer address (getpeername) of", this);
        return true;
    }

    /// <summary>
    /// Hands the connection to <see cref="System.Net.Sockets"/>: returns a <see cref="Socket"/> (in blocking mode,
    /// as a new <see cref="Socket"/> is; async calls work as usual) that owns the descriptor, and this stream is
    /// deregistered from its <see cref="Poll"/> and disposed. No descriptor is created or duplicated.
    /// </summary>
    /// <remarks>Do not use this stream on another thread while handing it over. The way back is <see cref="FromSocket"/>.</remarks>
    /// <example>
    /// <code>
    /// var (mine, theirs) = UnixStream.Pair();
    /// using Socket socket = theirs.ToSocket();               // e.g. for a library that speaks to a Socket
    /// </code>
    /// </example>
    /// <exception cref="SocketException">The kernel refused to switch the descriptor to blocking mode (the
    /// connection is closed then).</exception>
    public Socket ToSocket() => StreamHandoff.ToSocket(ref _core, this);

    /// <summary><see cref="ToSocket"/> wrapped in a <see cref="NetworkStream"/> that owns the socket.</summary>
    /// <example>
    /// <code>
    /// using NetworkStream network = stream.ToStream();
    /// network.Write("hello"u8);
    /// </code>
    /// </example>
    /// <exception cref="SocketException">As for <see cref="ToSocket"/>.</exception>
    public NetworkStream ToStream() => new(ToSocket(), ownsSocket: true);
}
