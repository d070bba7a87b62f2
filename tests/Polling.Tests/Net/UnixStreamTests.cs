using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UnixStreamTests : IDisposable
{
    private const Token ListenerToken = (Token)0;
    private const Token ClientToken = (Token)1;
    private const Token ServerToken = (Token)2;

    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Connect_accept_echo_over_a_path()
    {
        string path = Path.Combine(_directory, "echo.sock");
        using var log = new EventLog();
        using var listener = UnixListener.Bind(path);
        log.Registry.Register(listener, ListenerToken, Interest.Readable);
        using var client = UnixStream.Connect(path);
        log.Registry.Register(client, ClientToken, Interest.Readable | Interest.Writable);

        log.WaitFor(ListenerToken, e => e.IsReadable);
        Assert.True(listener.TryAccept(out UnixStream? accepted, out UnixDomainSocketEndPoint? remote));
        using UnixStream server = accepted;
        Assert.Equal(string.Empty, remote.ToString()); // clients are unnamed
        log.Registry.Register(server, ServerToken, Interest.Readable);

        log.WaitFor(ClientToken, e => e.IsWritable);
        Assert.Equal(path, client.RemoteEndPoint.ToString());
        Assert.Equal(string.Empty, client.LocalEndPoint.ToString());
        Assert.Equal(path, server.LocalEndPoint.ToString());
        Assert.Equal(SocketError.Success, client.TakeError());

        var buffer = new byte[32];
        Assert.False(client.TryRead(buffer, out _));
        Assert.True(client.TryWrite("ping"u8, out int written));
        Assert.Equal(4, written);
        log.WaitFor(ServerToken, e => e.IsReadable);
        Assert.True(server.TryPeek(buffer, out int peeked));
        Assert.Equal(4, peeked);
        Assert.True(server.TryRead(buffer, out int read));
        Assert.Equal("ping"u8.ToArray(), buffer[..read]);
        Assert.True(server.TryWrite([new ArraySegment<byte>("po"u8.ToArray()), new ArraySegment<byte>("ng"u8.ToArray())], out written));
        Assert.Equal(4, written);
        log.WaitFor(ClientToken, e => e.IsReadable);
        var first = new byte[1];
        var rest = new byte[8];
        Assert.True(client.TryRead([new ArraySegment<byte>(first), new ArraySegment<byte>(rest)], out read));
        Assert.Equal(4, read);
        Assert.Equal((byte)'p', first[0]);
        Assert.Equal("ong"u8.ToArray(), rest[..3]);
    }

    [Fact]
    public void Abstract_names_need_no_file()
    {
        string name = "\0polling-test-" + Guid.NewGuid().ToString("N");
        using var listener = UnixListener.Bind(name);
        Assert.Equal("@" + name[1..], listener.LocalEndPoint.ToString());
        using var client = UnixStream.Connect(name);
        UnixStream? server = null;
        Eventually(() => listener.TryAccept(out server), "accept");
        using var serverScope = server!;
        Assert.True(client.TryWrite("abstract"u8, out _));
        Assert.Equal("abstract"u8.ToArray(), ReadExactly(server!, 8));

        using var viaEndPoint = UnixStream.Connect(new UnixDomainSocketEndPoint(name));
        Assert.Equal(listener.LocalEndPoint, viaEndPoint.RemoteEndPoint);
    }

    [Fact]
    public void Pair_is_connected_both_ways_and_knows_its_peer()
    {
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        using var _b = b;
        using var log = new EventLog();
        log.Registry.Register(b, ServerToken, Interest.Readable);

        Assert.True(a.TryWrite("to b"u8, out _));
        log.WaitFor(ServerToken, e => e.IsReadable);
        Assert.Equal("to b"u8.ToArray(), ReadExactly(b, 4));
        Assert.True(b.TryWrite("to a"u8, out _));
        Assert.Equal("to a"u8.ToArray(), ReadExactly(a, 4));

        UnixCredentials peer = a.PeerCredentials;
        Assert.Equal(Environment.ProcessId, peer.ProcessId);
        Assert.Equal((uint)Tmds.Linux.LibC.geteuid(), peer.UserId);
        Assert.Equal((uint)Tmds.Linux.LibC.getegid(), peer.GroupId);
        Assert.Equal(string.Empty, a.RemoteEndPoint.ToString());
    }

    [Fact]
    public void Read_after_peer_close_and_write_after_peer_close()
    {
        using var log = new EventLog();
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        log.Registry.Register(a, ClientToken, Interest.Readable | Interest.Writable);
        log.WaitFor(ClientToken, e => e.IsWritable);

        Assert.True(b.TryWrite("bye"u8, out _));
        b.Dispose();
        Event ev = log.WaitFor(ClientToken, e => e.IsReadClosed);
        Assert.True(ev.IsReadable);
        Assert.Equal("bye"u8.ToArray(), ReadExactly(a, 3));
        Assert.True(a.TryRead(new byte[4], out int end));
        Assert.Equal(0, end);

        var error = Assert.Throws<SocketException>(() => a.TryWrite("anyone?"u8, out _));
        Assert.Equal(SocketError.Shutdown, error.SocketErrorCode);
        Assert.Contains("write to UnixStream", error.Message);
    }

    [Fact]
    public void Half_close_with_shutdown()
    {
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        using var _b = b;
        Assert.True(a.TryWrite("question"u8, out _));
        a.Shutdown(SocketShutdown.Send);
        Assert.Equal("question"u8.ToArray(), ReadExactly(b, 8));
        Assert.True(b.TryRead(new byte[4], out int end));
        Assert.Equal(0, end);
        Assert.True(b.TryWrite("answer"u8, out _));
        Assert.Equal("answer"u8.ToArray(), ReadExactly(a, 6));
        Assert.Equal(SocketError.Shutdown, Assert.Throws<SocketException>(() => a.TryWrite("x"u8, out _)).SocketErrorCode);
    }

    [Fact]
    public void Large_transfer_with_partial_writes()
    {
        const int Size = 4 * 1024 * 1024;
        var data = new byte[Size];
        new Random(7).NextBytes(data);
        var received = new byte[Size];
        var (a, b) = UnixStream.Pair();
        using var _a = a;
        using var _b = b;
        a.SendBufferSize = 8 * 1024;
        using var poll = new Poll();
        var events = new Events(8);
        poll.Registry.Register(a, ClientToken, Interest.Writable);
        poll.Registry.Register(b, ServerToken, Interest.Readable);

        int sent = 0, got = 0, blocked = 0;
        DateTime end = DateTime.UtcNow + Deadline * 2;
        while (got < Size)
        {
            Assert.True(DateTime.UtcNow < end, $"timed out at {got}/{Size}");
            while (sent < Size)
            {
                if (!a.TryWrite(data.AsSpan(sent), out int n))
                {
                    blocked++;
                    break;
                }

                sent += n;
            }

            while (got < Size && b.TryRead(received.AsSpan(got), out int n))
            {
                got += n;
            }

            poll.Wait(events, TimeSpan.FromMilliseconds(200));
        }

        Assert.Equal(data, received);
        Assert.True(blocked > 0);
    }

    [Fact]
    public void Connect_to_a_missing_path_or_a_dead_listener_fails_clearly()
    {
        string missing = Path.Combine(_directory, "missing.sock");
        var error = Assert.Throws<SocketException>(() => UnixStream.Connect(missing));
        Assert.Equal(SocketError.AddressNotAvailable, error.SocketErrorCode);
        Assert.Contains(missing, error.Message);

        string stale = Path.Combine(_directory, "stale.sock");
        UnixListener.Bind(stale).Dispose(); // the file stays: we never unlink
        Assert.True(File.Exists(stale));
        var refused = Assert.Throws<SocketException>(() => UnixStream.Connect(stale));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public void Remote_end_point_of_an_unconnected_stream_throws_not_connected()
    {
        using var stream = UnixStream.FromSocket(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        var error = Assert.Throws<SocketException>(() => stream.RemoteEndPoint);
        Assert.Equal(SocketError.NotConnected, error.SocketErrorCode);
    }

    [Fact]
    public void From_socket_takes_over_a_connected_socket()
    {
        string path = Path.Combine(_directory, "adopt.sock");
        using var listener = UnixListener.Bind(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        using var stream = UnixStream.FromSocket(socket);
        Assert.Throws<ObjectDisposedException>(() => socket.Send(new byte[1]));
        Assert.False(stream.TryRead(new byte[4], out _));

        UnixStream? server = null;
        Eventually(() => listener.TryAccept(out server), "accept");
        using var serverScope = server!;
        Assert.True(stream.TryWrite("hi"u8, out _));
        Assert.Equal("hi"u8.ToArray(), ReadExactly(server!, 2));

        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<ArgumentException>(() => UnixStream.FromSocket(tcp));
        Assert.Throws<ArgumentNullException>(() => UnixStream.FromSocket(null!));
    }

    [Fact]
    public void Disposed_stream_throws_object_disposed()
    {
        var (a, b) = UnixStream.Pair();
        b.Dispose();
        a.Dispose();
        a.Dispose();
        Assert.Equal("UnixStream(disposed)", a.ToString());
        Assert.Throws<ObjectDisposedException>(() => a.TryRead(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => a.TryWrite(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => a.PeerCredentials);
        Assert.Throws<ObjectDisposedException>(() => a.LocalEndPoint);
    }
}
