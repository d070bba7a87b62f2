using System.Net;
using System.Net.Sockets;
using System.Text;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class UnixDatagramTests : IDisposable
{
    private const Token First = (Token)1;
    private const Token Second = (Token)2;

    private static readonly byte[] Data1 = "Hello same host!"u8.ToArray();
    private static readonly byte[] Data2 = "Why hello Polling!"u8.ToArray();

    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathFor(string name) => Path.Combine(_directory, name);

    [Fact]
    public void Unconnected_send_to_path_receive_from()
    {
        string path1 = PathFor("one"), path2 = PathFor("two");
        using var log = new EventLog();
        using var datagram1 = UnixDatagram.Bind(path1);
        using var datagram2 = UnixDatagram.Bind(path2);
        Assert.Equal(path1, datagram1.LocalEndPoint.ToString());

        log.Registry.Register(datagram1, First, Interest.Readable | Interest.Writable);
        log.Registry.Register(datagram2, Second, Interest.Readable | Interest.Writable);
        log.WaitFor(First, e => e.IsWritable);
        log.WaitFor(Second, e => e.IsWritable);

        var buffer = new byte[64];
        Assert.False(datagram1.TryReceiveFrom(buffer, out _, out UnixDomainSocketEndPoint? none));
        Assert.Null(none);
        Assert.False(datagram2.TryPeekFrom(buffer, out _, out _));

        Assert.True(datagram1.TrySendTo(Data1, path2, out int sent));
        Assert.Equal(Data1.Length, sent);
        Assert.True(datagram2.TrySendTo(Data2, new UnixDomainSocketEndPoint(path1), out sent));
        Assert.Equal(Data2.Length, sent);

        log.WaitFor(First, e => e.IsReadable);
        log.WaitFor(Second, e => e.IsReadable);

        Assert.True(datagram1.TryPeekFrom(buffer, out int n, out UnixDomainSocketEndPoint? from));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(path2, from.ToString());
        Assert.True(datagram1.TryReceiveFrom(buffer, out n, out from));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(path2, from.ToString());
        Assert.True(datagram2.TryReceiveFrom(buffer, out n, out from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(path1, from.ToString());

        Assert.Equal(SocketError.Success, datagram1.TakeError());
        Assert.Equal(SocketError.Success, datagram2.TakeError());
    }

    [Fact]
    public void Connected_send_peek_receive_and_end_points()
    {
        string path1 = PathFor("one"), path2 = PathFor("two");
        using var log = new EventLog();
        using var datagram1 = UnixDatagram.Bind(path1);
        using var datagram2 = UnixDatagram.Bind(path2);
        datagram1.Connect(path2);
        datagram2.Connect(new UnixDomainSocketEndPoint(path1));
        Assert.Equal(path2, datagram1.RemoteEndPoint.ToString());
        Assert.Equal(path1, datagram2.RemoteEndPoint.ToString());

        log.Registry.Register(datagram1, First, Interest.Readable | Interest.Writable);
        log.Registry.Register(datagram2, Second, Interest.Readable | Interest.Writable);
        log.WaitFor(First, e => e.IsWritable);
        log.WaitFor(Second, e => e.IsWritable);

        var buffer = new byte[64];
        Assert.False(datagram1.TryReceive(buffer, out _));
        Assert.False(datagram1.TryPeek(buffer, out _));
        Assert.True(datagram1.TrySend(Data1, out _));
        Assert.True(datagram2.TrySend(Data2, out _));
        log.WaitFor(First, e => e.IsReadable);
        log.WaitFor(Second, e => e.IsReadable);

        Assert.True(datagram1.TryPeek(buffer, out int n));
        Assert.Equal(Data2, buffer[..n]);
        Assert.True(datagram1.TryReceive(buffer, out n));
        Assert.Equal(Data2, buffer[..n]);
        Assert.True(datagram2.TryReceive(buffer, out n));
        Assert.Equal(Data1, buffer[..n]);
        Assert.False(datagram2.TryReceive(buffer, out _));
    }

    [Fact]
    public void Pair_exchanges_datagrams_and_knows_the_peers_credentials()
    {
        using var log = new EventLog();
        var (datagram1, datagram2) = UnixDatagram.Pair();
        using (datagram1)
        using (datagram2)
        {
            log.Registry.Register(datagram1, First, Interest.Readable | Interest.Writable);
            log.Registry.Register(datagram2, Second, Interest.Readable | Interest.Writable);
            log.WaitFor(First, e => e.IsWritable);
            log.WaitFor(Second, e => e.IsWritable);

            var buffer = new byte[64];
            Assert.False(datagram1.TryReceive(buffer, out _));
            Assert.False(datagram2.TryReceive(buffer, out _));
            Assert.True(datagram1.TrySend(Data1, out _));
            Assert.True(datagram2.TrySend(Data2, out _));
            log.WaitFor(First, e => e.IsReadable);
            log.WaitFor(Second, e => e.IsReadable);
            Assert.True(datagram1.TryReceive(buffer, out int n));
            Assert.Equal(Data2, buffer[..n]);
            Assert.True(datagram2.TryReceive(buffer, out n));
            Assert.Equal(Data1, buffer[..n]);

            UnixCredentials peer = datagram1.PeerCredentials;
            Assert.Equal(Environment.ProcessId, peer.ProcessId);
            Assert.Equal(string.Empty, datagram1.RemoteEndPoint.ToString());
            Assert.Equal(string.Empty, datagram1.LocalEndPoint.ToString());
            Assert.EndsWith(", unnamed)", datagram1.ToString());
            Assert.Equal(SocketError.Success, datagram1.TakeError());
        }
    }

    [Fact]
    public void Pair_peer_disposed_sending_fails_with_connection_refused()
    {
        var (datagram1, datagram2) = UnixDatagram.Pair();
        using (datagram1)
        {
            datagram2.Dispose();
            var error = Assert.Throws<SocketException>(() => datagram1.TrySend(Data1, out _));
            Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
            Assert.False(datagram1.TryReceive(new byte[8], out _));
        }
    }

    [Fact]
    public void UnboundSender_arrives_unnamed_and_cannot_be_replied_to()
    {
        string path = PathFor("server");
        using var poll = new Poll();
        var events = new Events(8);
        using var server = UnixDatagram.Bind(path);
        using var client = UnixDatagram.Unbound();
        Assert.Equal(string.Empty, client.LocalEndPoint.ToString());
        poll.Registry.Register(server, First, Interest.Readable);

        Assert.True(client.TrySendTo(Data1, path, out _));
        Assert.True(client.TrySendTo(Data2, path, out _));
        WaitFor(poll, events, First, e => e.IsReadable);

        var buffer = new byte[64];
        Assert.True(server.TryReceiveFrom(buffer, out int n, out UnixDomainSocketEndPoint? from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(string.Empty, from.ToString());

        var sender = new SocketAddress(AddressFamily.Unix);
        Assert.True(server.TryReceiveFrom(buffer, out n, sender));
        Assert.Equal(Data2, buffer[..n]);
        Assert.Equal(2, sender.Size);
        Assert.Equal(AddressFamily.Unix, sender.Family);

        Assert.Throws<SocketException>(() => server.TrySendTo(buffer.AsSpan(0, n), sender, out _));
    }

    [Fact]
    public void SocketAddressOverloads_receive_and_reply_without_allocating_endpoints()
    {
        string serverPath = PathFor("server"), clientPath = PathFor("client");
        using var poll = new Poll();
        var events = new Events(8);
        using var server = UnixDatagram.Bind(serverPath);
        using var client = UnixDatagram.Bind(clientPath);
        poll.Registry.Register(server, First, Interest.Readable);
        poll.Registry.Register(client, Second, Interest.Readable);

        Assert.True(client.TrySendTo(Data1, serverPath, out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        var sender = new SocketAddress(AddressFamily.Unix);
        var buffer = new byte[64];
        Assert.True(server.TryReceiveFrom(buffer, out int n, sender));
        Assert.Equal(Data1, buffer[..n]);
        SocketAddress expected = new UnixDomainSocketEndPoint(clientPath).Serialize();
        Assert.Equal(expected.Buffer.Span[..expected.Size].ToArray(), sender.Buffer.Span[..sender.Size].ToArray());
        Assert.Equal(clientPath, ((UnixDomainSocketEndPoint)new UnixDomainSocketEndPoint("/").Create(sender)).ToString());

        Assert.True(server.TrySendTo(buffer.AsSpan(0, n), sender, out _));
        WaitFor(poll, events, Second, e => e.IsReadable);
        Assert.True(client.TryReceiveFrom(buffer, out n, out UnixDomainSocketEndPoint? from));
        Assert.Equal(Data1, buffer[..n]);
        Assert.Equal(serverPath, from.ToString());
    }

    [Fact]
    public void AbstractNames_need_no_file()
    {
        string name = "\0polling-dgram-" + Guid.NewGuid().ToString("N");
        using var poll = new Poll();
        var events = new Events(8);
        using var server = UnixDatagram.Bind(name);
        using var client = UnixDatagram.Unbound();
        Assert.StartsWith("@polling-dgram-", server.LocalEndPoint.ToString());
        poll.Registry.Register(server, First, Interest.Readable);

        client.Connect(name);
        Assert.True(client.TrySend(Data1, out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        Assert.True(server.TryReceive(new byte[64], out int n));
        Assert.Equal(Data1.Length, n);

        var taken = Assert.Throws<SocketException>(() => UnixDatagram.Bind(name));
        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
        Assert.Contains("abstract name", taken.Message);
    }

    [Fact]
    public void Shutdown_reports_closed_halves_and_send_afterwards_fails()
    {
        string path1 = PathFor("one"), path2 = PathFor("two");
        using var log = new EventLog();
        using var datagram1 = UnixDatagram.Bind(path1);
        using var datagram2 = UnixDatagram.Bind(path2);
        log.Registry.Register(datagram1, First, Interest.Readable | Interest.Writable);
        log.Registry.Register(datagram2, Second, Interest.Readable | Interest.Writable);

        datagram1.Connect(path2);
        log.WaitFor(First, e => e.IsWritable);
        Assert.True(datagram1.TrySend(Data1, out _));
        log.WaitFor(Second, e => e.IsReadable);

        datagram1.Shutdown(SocketShutdown.Receive);
        log.WaitFor(First, e => e.IsReadClosed);
        Assert.False(datagram1.TryReceive(new byte[8], out _)); // no end-of-stream on datagram sockets

        datagram1.Shutdown(SocketShutdown.Send);
        log.WaitFor(First, e => e.IsWriteClosed);
        var error = Assert.Throws<SocketException>(() => datagram1.TrySend(Data2, out _));
        Assert.Equal(SocketError.Shutdown, error.SocketErrorCode);
        Assert.Equal(SocketError.Success, datagram1.TakeError());
    }

    [Fact]
    public void ManyDatagrams_arrive_in_order_with_flow_control_instead_of_loss()
    {
        const int Count = 1_000;
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = UnixDatagram.Pair();
        using (sender)
        using (receiver)
        {
            poll.Registry.Register(sender, First, Interest.Writable);
            poll.Registry.Register(receiver, Second, Interest.Readable);
            int sent = 0, received = 0, wouldBlock = 0;
            var payload = new byte[100];
            var buffer = new byte[200];
            DateTime end = DateTime.UtcNow + Deadline;
            while (received < Count)
            {
                Assert.True(DateTime.UtcNow < end, $"Stalled: sent {sent}, received {received}.");
                poll.Wait(events, TimeSpan.FromMilliseconds(200));
                while (sent < Count)
                {
                    BitConverter.TryWriteBytes(payload, sent);
                    if (!sender.TrySend(payload, out _))
                    {
                        wouldBlock++;
                        break;
                    }

                    sent++;
                }

                while (receiver.TryReceive(buffer, out int n))
                {
                    Assert.Equal(100, n);
                    Assert.Equal(received++, BitConverter.ToInt32(buffer));
                }
            }

            Assert.True(wouldBlock > 0, "The receiver's queue should have filled up at some point.");
        }
    }

    [Fact]
    public void Reregister_and_deregister()
    {
        string path1 = PathFor("one"), path2 = PathFor("two");
        using var poll = new Poll();
        var events = new Events(8);
        using var datagram1 = UnixDatagram.Bind(path1);
        using var datagram2 = UnixDatagram.Bind(path2);
        poll.Registry.Register(datagram1, First, Interest.Readable);
        Assert.Empty(Drain(poll, events, First));

        poll.Registry.Reregister(datagram1, Second, Interest.Writable);
        WaitFor(poll, events, Second, e => e.IsWritable);

        poll.Registry.Deregister(datagram1);
        Assert.True(datagram2.TrySendTo(Data1, path1, out _));
        Assert.Empty(Drain(poll, events, Second));
        Assert.Empty(Drain(poll, events, First));
        Assert.True(datagram1.TryReceive(new byte[64], out int n));
        Assert.Equal(Data1.Length, n);
    }

    [Fact]
    public void Empty_and_truncated_datagrams()
    {
        var (a, b) = UnixDatagram.Pair();
        using (a)
        using (b)
        {
            Assert.True(a.TrySend(ReadOnlySpan<byte>.Empty, out int sent));
            Assert.Equal(0, sent);
            Assert.True(a.TrySend(Data1, out _));
            Assert.True(b.TryReceive(new byte[8], out int n));
            Assert.Equal(0, n);
            var small = new byte[5];
            Assert.True(b.TryReceive(small, out n));
            Assert.Equal(5, n);
            Assert.Equal(Data1[..5], small);
            Assert.False(b.TryReceive(small, out _));
        }
    }

    [Fact]
    public void BindExistingPath_fails_clearly_and_nothing_is_deleted()
    {
        string path = PathFor("taken");
        using (UnixDatagram.Bind(path))
        {
        }

        Assert.True(File.Exists(path), "Dispose must not delete the socket file (Polling never unlinks).");
        var error = Assert.Throws<SocketException>(() => UnixDatagram.Bind(path));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains("never deletes files", error.Message);
        Assert.Contains(path, error.Message);
        Assert.True(File.Exists(path));

        File.Delete(path);
        using var again = UnixDatagram.Bind(path);
        Assert.Equal(path, again.LocalEndPoint.ToString());
    }

    [Fact]
    public void PathLimit_107_bytes_bind_108_bytes_throw_argument_exception()
    {
        string prefix = _directory + "/";
        string fits = prefix + new string('a', 107 - Encoding.UTF8.GetByteCount(prefix));
        string tooLong = fits + "b";
        Assert.Equal(107, Encoding.UTF8.GetByteCount(fits));

        using (var bound = UnixDatagram.Bind(fits))
        {
            Assert.Equal(fits, bound.LocalEndPoint.ToString());
        }

        using var socket = UnixDatagram.Unbound();
        var error = Assert.Throws<ArgumentException>(() => UnixDatagram.Bind(tooLong));
        Assert.Contains("107", error.Message);
        Assert.False(File.Exists(tooLong));
        Assert.Throws<ArgumentException>(() => socket.Connect(tooLong));
        Assert.Throws<ArgumentException>(() => socket.TrySendTo(Data1, tooLong, out _));
        Assert.Throws<ArgumentException>(() => UnixDatagram.Bind(string.Empty));
    }

    [Fact]
    public void MissingPaths_fail_with_address_not_available()
    {
        string missing = PathFor("nobody-here");
        using var socket = UnixDatagram.Unbound();
        var error = Assert.Throws<SocketException>(() => socket.TrySendTo(Data1, missing, out _));
        Assert.Equal(SocketError.AddressNotAvailable, error.SocketErrorCode);
        Assert.Contains(missing, error.Message);
        error = Assert.Throws<SocketException>(() => socket.Connect(missing));
        Assert.Equal(SocketError.AddressNotAvailable, error.SocketErrorCode);
        Assert.Throws<SocketException>(() => socket.RemoteEndPoint);
        var notConnected = Assert.Throws<SocketException>(() => socket.TrySend(Data1, out _));
        Assert.Equal(SocketError.NotConnected, notConnected.SocketErrorCode);
    }

    [Fact]
    public void FromSocket_takes_over_a_bound_socket_and_keeps_its_file()
    {
        string path = PathFor("adopted");
        var original = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        original.Bind(new UnixDomainSocketEndPoint(path));

        using UnixDatagram adopted = UnixDatagram.FromSocket(original);
        Assert.True(original.SafeHandle.IsClosed);
        Assert.True(File.Exists(path));
        Assert.Equal(path, adopted.LocalEndPoint.ToString());
        Assert.False(adopted.TryReceive(new byte[8], out _)); // non-blocking now

        using var poll = new Poll();
        var events = new Events(8);
        using var sender = UnixDatagram.Unbound();
        poll.Registry.Register(adopted, First, Interest.Readable);
        Assert.True(sender.TrySendTo(Data1, path, out _));
        WaitFor(poll, events, First, e => e.IsReadable);
        Assert.True(adopted.TryReceive(new byte[64], out int n));
        Assert.Equal(Data1.Length, n);
    }

    [Fact]
    public void FromSocket_not_a_unix_datagram_socket_throws_and_leaves_it_alone()
    {
        using var stream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var error = Assert.Throws<ArgumentException>(() => UnixDatagram.FromSocket(stream));
        Assert.Contains("UnixStream.FromSocket", error.Message);
        Assert.False(stream.SafeHandle.IsClosed);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Throws<ArgumentException>(() => UnixDatagram.FromSocket(udp));
        Assert.False(udp.SafeHandle.IsClosed);
        Assert.Throws<ArgumentNullException>(() => UnixDatagram.FromSocket(null!));
    }

    [Fact]
    public void Created_non_blocking_and_close_on_exec()
    {
        var (a, b) = UnixDatagram.Pair();
        using (a)
        using (b)
        using (var bound = UnixDatagram.Bind(PathFor("flags")))
        using (var unbound = UnixDatagram.Unbound())
        {
            foreach (UnixDatagram socket in new[] { a, b, bound, unbound })
            {
                int fd = (int)socket.Handle.DangerousGetHandle();
                Assert.NotEqual(0, Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_GETFL) & Tmds.Linux.LibC.O_NONBLOCK);
                Assert.NotEqual(0, Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_GETFD) & Tmds.Linux.LibC.FD_CLOEXEC);
            }
        }
    }
}
