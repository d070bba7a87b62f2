using System.Net.Sockets;
using System.Text;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UnixListenerTests : IDisposable
{
    private const Token ListenerToken = (Token)0;

    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Bind_creates_the_socket_file_and_dispose_leaves_it()
    {
        string path = Path.Combine(_directory, "server.sock");
        var listener = UnixListener.Bind(path);
        Assert.True(File.Exists(path));
        Assert.Equal(path, listener.LocalEndPoint.ToString());
        Assert.Contains(path, listener.ToString());
        listener.Dispose();
        Assert.True(File.Exists(path), "Polling never unlinks: the caller deletes the file");
    }

    [Fact]
    public void Binding_an_existing_path_throws_address_already_in_use_and_names_the_policy()
    {
        string path = Path.Combine(_directory, "taken.sock");
        using var first = UnixListener.Bind(path);
        var error = Assert.Throws<SocketException>(() => UnixListener.Bind(path));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains(path, error.Message);
        Assert.Contains("never deletes", error.Message);

        // A stale file from an earlier run: the same error until the caller deletes it.
        string stale = Path.Combine(_directory, "stale.sock");
        UnixListener.Bind(stale).Dispose();
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.Throws<SocketException>(() => UnixListener.Bind(stale)).SocketErrorCode);
        File.Delete(stale);
        using var rebound = UnixListener.Bind(stale);
    }

    [Fact]
    public void Paths_longer_than_sun_path_are_rejected_before_any_system_call()
    {
        string prefix = _directory + "/";
        string longest = prefix + new string('a', 107 - prefix.Length);   // 107 bytes: fits with its NUL
        string tooLong = longest + "a";                                   // 108 bytes: does not
        Assert.Equal(107, Encoding.UTF8.GetByteCount(longest));
        var error = Assert.Throws<ArgumentException>(() => UnixListener.Bind(tooLong));
        Assert.Equal("path", error.ParamName);
        Assert.Contains("107", error.Message);
        Assert.Throws<ArgumentException>(() => UnixStream.Connect(tooLong));
        Assert.False(File.Exists(tooLong));
        using (var fits = UnixListener.Bind(longest))
        {
            Assert.Equal(longest, fits.LocalEndPoint.ToString());
            using var client = UnixStream.Connect(longest);
        }

        Assert.Throws<ArgumentException>(() => UnixListener.Bind("\0" + new string('n', 108)));
        using (UnixListener.Bind("\0" + new string('n', 107))) { }    // an abstract name may use all 108 bytes

        string multiByte = "/tmp/" + new string('é', 52);       // 5 + 104 bytes = 109 > 107
        Assert.Throws<ArgumentException>(() => UnixListener.Bind(multiByte));
        Assert.Throws<ArgumentException>(() => UnixListener.Bind(string.Empty));
        Assert.Throws<ArgumentException>(() => UnixListener.Bind("/tmp/a\0b"));
        Assert.Throws<ArgumentNullException>(() => UnixListener.Bind((string)null!));
        Assert.Throws<ArgumentNullException>(() => UnixListener.Bind((UnixDomainSocketEndPoint)null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => UnixListener.Bind(Path.Combine(_directory, "b.sock"), backlog: 0));
        Assert.False(File.Exists(Path.Combine(_directory, "b.sock")));
    }

    [Fact]
    public void Edge_triggered_accept_of_several_clients()
    {
        string path = Path.Combine(_directory, "many.sock");
        using var log = new EventLog();
        using var listener = UnixListener.Bind(new UnixDomainSocketEndPoint(path), backlog: 16);
        log.Registry.Register(listener, ListenerToken, Interest.Readable);
        Assert.False(listener.TryAccept(out _));

        var clients = Enumerable.Range(0, 4).Select(_ => UnixStream.Connect(path)).ToList();
        var accepted = new List<UnixStream>();
        while (accepted.Count < clients.Count)
        {
            log.WaitFor(ListenerToken, e => e.IsReadable);
            while (listener.TryAccept(out UnixStream? stream))
            {
                accepted.Add(stream);
            }
        }

        Assert.Empty(log.Drain(ListenerToken));
        Assert.All(accepted, s => Assert.Equal(Environment.ProcessId, s.PeerCredentials.ProcessId));
        accepted.ForEach(s => s.Dispose());
        clients.ForEach(c => c.Dispose());
        Assert.Equal(SocketError.Success, listener.TakeError());
    }

    [Fact]
    public void From_socket_takes_over_a_listening_socket_and_keeps_its_file()
    {
        string path = Path.Combine(_directory, "adopted.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();

        using var listener = UnixListener.FromSocket(socket);
        Assert.True(File.Exists(path), "disposing the Socket must not delete the path we now listen on");
        Assert.Equal(path, listener.LocalEndPoint.ToString());
        Assert.Throws<ObjectDisposedException>(() => socket.Accept());

        using var client = UnixStream.Connect(path);
        UnixStream? server = null;
        Eventually(() => listener.TryAccept(out server), "accept");
        server!.Dispose();
        Assert.Single(Directory.GetFiles(_directory)); // nothing left aside
    }

    [Fact]
    public void From_socket_rejects_wrong_sockets()
    {
        using var notListening = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Assert.Contains("Listen", Assert.Throws<ArgumentException>(() => UnixListener.FromSocket(notListening)).Message);
        using var datagram = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        Assert.Throws<ArgumentException>(() => UnixListener.FromSocket(datagram));
        Assert.Throws<ArgumentNullException>(() => UnixListener.FromSocket(null!));

        string path = Path.Combine(_directory, "listening.sock");
        using var listening = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listening.Bind(new UnixDomainSocketEndPoint(path));
        listening.Listen();
        Assert.Contains("UnixListener.FromSocket", Assert.Throws<ArgumentException>(() => UnixStream.FromSocket(listening)).Message);
    }
}
