using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tmds.Linux;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// A non-blocking Unix-domain stream listener (a filesystem path or a Linux abstract name) that can be
/// registered with a <see cref="Poll"/>: readable when connections wait; <see cref="TryAccept(out UnixStream)"/>
/// takes them until it returns <see langword="false"/>. This is mio's <c>UnixListener</c>.
/// </summary>
/// <remarks>
/// <para><b>Paths and the unlinking policy.</b> Binding creates a socket file at the path. Polling never
/// deletes files for you — not before binding, not on <see cref="Dispose"/> (as in mio and Rust's standard
/// library): binding to a path that already exists fails with <see cref="SocketException"/>
/// (<see cref="SocketError.AddressAlreadyInUse"/>), even if the file is a stale socket from a crashed run.
/// Delete the file yourself when you know it is yours (<c>File.Delete(path)</c> before <c>Bind</c>, and after
/// <c>Dispose</c>). A path longer than 107 UTF-8 bytes does not fit the kernel's <c>sun_path</c> and throws
/// <see cref="ArgumentException"/>.</para>
/// <para><b>Abstract names</b> (Linux): a path that starts with <c>'\0'</c>, e.g. <c>"\0my-service"</c>, names
/// a socket with no file at all; it disappears when the last socket using it is closed, so there is nothing to
/// clean up. The same convention as <see cref="UnixDomainSocketEndPoint"/>.</para>
/// <para>The socket is non-blocking and close-on-exec from creation; so are accepted streams (<c>accept4</c>).
/// <see cref="Dispose"/> is idempotent; registering a disposed listener throws <see cref="ObjectDisposedException"/>.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="SocketException"/> whose <see cref="SocketException.SocketErrorCode"/> matches the
/// errno, with a message naming the operation and the socket. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// string path = Path.Combine(Path.GetTempPath(), "app.sock");
/// File.Delete(path);                                  // our own stale socket from a previous run, if any
/// using var listener = UnixListener.Bind(path);
/// using var poll = new Poll();
/// poll.Registry.Register(listener, (Token)0, Interest.Readable);
/// var events = new Events(64);
/// poll.Wait(events);
/// while (listener.TryAccept(out UnixStream? client))
///     Console.WriteLine($"client pid {client.PeerCredentials.ProcessId}");
/// listener.Dispose();
/// File.Delete(path);
/// </code>
/// </example>
public sealed class UnixListener : ISource, IDisposable
{
    /// <summary>The default backlog: 1024 pending connections.</summary>
    public const int DefaultBacklog = 1024;

    private SocketCore _core;

    private UnixListener(FdHandle handle)
    {
        _core = new SocketCore(handle);
        _core.CaptureLocalName();
    }

    /// <summary>The path (or abstract name, starting with <c>'\0'</c>) the listener is bound to.</summary>
    public UnixDomainSocketEndPoint LocalEndPoint => _core.GetUnixEndPoint(peer: false, this);

    /// <summary>
    /// The socket descriptor, for your own system calls (bracket with <c>DangerousAddRef</c>/<c>DangerousRelease</c>
    /// if another thread may dispose the listener). The listener owns it: do not close or dispose it.
    /// </summary>
    public SafeHandle Handle => _core.Handle;

    /// <summary>Binds a listening Unix stream socket to <paramref name="path"/> with a backlog of 1024.</summary>
    /// <param name="path">A filesystem path (at most 107 UTF-8 bytes), or <c>"\0name"</c> for an abstract name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or too long for <c>sun_path</c>.</exception>
    /// <exception cref="SocketException"><see cref="SocketError.AddressAlreadyInUse"/> if the path exists (we never
    /// delete it for you), <see cref="SocketError.AccessDenied"/> without write access to the directory, ….</exception>
    public static UnixListener Bind(string path) => Bind(path, DefaultBacklog);

    /// <summary>Binds a listening Unix stream socket to <paramref name="path"/> with the given backlog.</summary>
    /// <param name="path">A filesystem path (at most 107 UTF-8 bytes), or <c>"\0name"</c> for an abstract name.</param>
    /// <param name="backlog">Pending connections the kernel queues (at least 1; capped at <c>net.core.somaxconn</c>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backlog"/> is less than 1.</exception>
    public static UnixListener Bind(string path, int backlog)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(path, address);
        return Bind(address[..length], Describe(path), backlog);
    }

    /// <summary>Binds a listening Unix stream socket to <paramref name="endpoint"/> with a backlog of 1024.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    public static UnixListener Bind(UnixDomainSocketEndPoint endpoint) => Bind(endpoint, DefaultBacklog);

    /// <summary>Binds a listening Unix stream socket to <paramref name="endpoint"/> with the given backlog.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backlog"/> is less than 1.</exception>
    public static UnixListener Bind(UnixDomainSocketEndPoint endpoint, int backlog)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        int length = SockAddr.WriteUnix(endpoint, address);
        return Bind(address[..length], $"\"{endpoint}\"", backlog);
    }

    /// <summary>
    /// Takes over a listening Unix stream <see cref="Socket"/>: its descriptor is duplicated (close-on-exec) and
    /// made non-blocking, and <paramref name="socket"/> is disposed. The socket file stays in place (disposing a
    /// <see cref="Socket"/> normally deletes the path it bound; Polling moves the file aside for that moment), and
    /// from then on the unlinking policy of <see cref="UnixListener"/> applies: delete it yourself when done.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ArgumentException">Not a Unix stream socket, or not listening. It is left untouched.</exception>
    /// <exception cref="SocketException">The kernel refused to duplicate the descriptor.</exception>
    public static UnixListener FromSocket(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        UnixStream.ValidateUnixStream(socket, nameof(socket));
        if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is not int listening || listening == 0)
        {
            throw new ArgumentException(
                "The socket is not listening: call Bind and Listen on it first, or use UnixStream.FromSocket for a connection.", nameof(socket));
        }

        return new UnixListener(UnixStream.Adopt(socket, "take over a listening Unix Socket"));
    }

    /// <summary>Accepts one waiting connection without blocking; allocates only the new <see cref="UnixStream"/>.</summary>
    /// <returns><see langword="false"/> when none is waiting (EAGAIN).</returns>
    /// <exception cref="SocketException">The kernel refused (e.g. out of descriptors).</exception>
    public bool TryAccept([MaybeNullWhen(false)] out UnixStream stream)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryAccept(address, out int length, out FdHandle? accepted, this))
        {
            stream = null;
            return false;
        }

        stream = new UnixStream(accepted!);
        stream.RememberPeer(address[..length]);
        return true;
    }

    /// <summary>
    /// Accepts one waiting connection and tells the client's address — usually unnamed (its path is empty),
    /// since clients rarely bind.
    /// </summary>
    /// <returns><see langword="false"/> when none is waiting (EAGAIN).</returns>
    public bool TryAccept([MaybeNullWhen(false)] out UnixStream stream, [MaybeNullWhen(false)] out UnixDomainSocketEndPoint remote)
    {
        Span<byte> address = stackalloc byte[SockAddr.StorageSize];
        if (!_core.TryAccept(address, out int length, out FdHandle? accepted, this))
        {
            stream = null;
            remote = null;
            return false;
        }

        stream = new UnixStream(accepted!);
        stream.RememberPeer(address[..length]);
        remote = SockAddr.ReadUnix(address[..length]);
        return true;
    }

    /// <summary>Reads and clears the pending error (<c>SO_ERROR</c>); <see cref="SocketError.Success"/> when there is none.</summary>
    public SocketError TakeError() => _core.TakeError(this);

    /// <summary>Closes the socket (once) and removes it from its Poll. The socket file stays: delete it yourself.</summary>
    public void Dispose() => _core.Close();

    /// <summary>Returns e.g. <c>UnixListener(fd 7, /run/app.sock)</c>, or <c>UnixListener(disposed)</c>. Makes no system call.</summary>
    public override string ToString() =>
        _core.IsDisposed ? "UnixListener(disposed)" : $"UnixListener(fd {_core.Fd}, {_core.LocalName})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Register(registry, token, interest, trigger, this);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _core.Reregister(registry, token, interest, trigger, this);

    void ISource.Deregister(Registry registry) => _core.Deregister(registry, this);

    /// <summary>A path for messages: quoted, abstract names shown as <c>@name</c>.</summary>
    internal static string Describe(string path) => path.StartsWith('\0') ? $"abstract name \"@{path[1..]}\"" : $"\"{path}\"";

    private static UnixListener Bind(ReadOnlySpan<byte> address, string where, int backlog)
    {
        FdHandle handle = SocketCalls.Create(AddressFamily.Unix, LibC.SOCK_STREAM, $"create a Unix socket to listen on {where}");
        try
        {
            int errno = SocketCalls.Bind(handle, address);
            if (errno == Errno.EADDRINUSE)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse,
                    $"bind a Unix listener to {where} failed: the address is already in use. If it is a path, a file exists there — " +
                    "another server is running, or a stale socket file was left by an earlier run. Polling never deletes files for you: " +
                    "delete it (File.Delete) if you know it is yours, or choose another path.");
            }

            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"bind a Unix listener to {where}");
            }

            errno = SocketCalls.Listen(handle, backlog);
            if (errno != 0)
            {
                throw SocketErrors.Exception(errno, $"listen on {where}");
            }

            return new UnixListener(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
