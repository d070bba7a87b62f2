using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;
using static Polling.TestSupport.LoopbackPairs;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Tests.Net;

public class TcpStreamTests
{
    private const Token ListenerToken = (Token)0;
    private const Token ClientToken = (Token)1;
    private const Token ServerToken = (Token)2;

    [Fact]
    public void Echo_over_IPv4() => Echo(IPAddress.Loopback);

    [IPv6Fact]
    public void Echo_over_IPv6() => Echo(IPAddress.IPv6Loopback);

    private static void Echo(IPAddress address)
    {
        using var log = new EventLog();
        using var listener = TcpListener.Bind(new IPEndPoint(address, 0));
        Assert.Equal(address.AddressFamily, listener.AddressFamily);
        log.Registry.Register(listener, ListenerToken, Interest.Readable);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        log.Registry.Register(client, ClientToken, Interest.Readable | Interest.Writable);

        log.WaitFor(ListenerToken, e => e.IsReadable);
        Assert.True(listener.TryAccept(out TcpStream? accepted, out IPEndPoint? remote));
        using TcpStream server = accepted;
        Assert.False(listener.TryAccept(out _), "only one connection was made");
        log.Registry.Register(server, ServerToken, Interest.Readable);

        log.WaitFor(ClientToken, e => e.IsWritable);
        Assert.Equal(SocketError.Success, client.TakeError());
        Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);
        Assert.Equal(client.LocalEndPoint, remote);
        Assert.Equal(server.LocalEndPoint, client.RemoteEndPoint);
        Assert.True(client.LocalEndPoint.Address.Equals(address));

        var buffer = new byte[64];
        Assert.False(client.TryPeek(buffer, out _), "nothing to peek yet");
        Assert.False(client.TryRead(buffer, out _), "nothing to read yet");

        Assert.True(client.TryWrite("Hello world!"u8, out int written));
        Assert.Equal(12, written);
        log.WaitFor(ServerToken, e => e.IsReadable);
        Assert.True(server.TryRead(buffer, out int read));
        Assert.Equal("Hello world!"u8.ToArray(), buffer[..read]);
        Assert.False(server.TryRead(buffer, out _), "drained");
        Assert.True(server.TryWrite(buffer.AsSpan(0, read), out _));

        log.WaitFor(ClientToken, e => e.IsReadable);
        Assert.True(client.TryPeek(buffer, out int peeked));
        Assert.Equal(12, peeked);
        Assert.True(client.TryRead(buffer, out read));
        Assert.Equal("Hello world!"u8.ToArray(), buffer[..read]);
        Assert.Equal(SocketError.Success, client.TakeError());
    }

    [Fact]
    public void Vectored_write_and_read_keep_order_and_leave_the_rest_untouched()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;

        byte[] first = "Hello world!"u8.ToArray();
        byte[] second = "Hello mars!"u8.ToArray();
        byte[] padded = [0xEE, .. second, 0xEE];
        Assert.True(client.TryWrite([new ArraySegment<byte>(first), new ArraySegment<byte>(padded, 1, second.Length), default], out int written));
        Assert.Equal(first.Length + second.Length, written);

        var one = new byte[first.Length];
        var two = Enumerable.Repeat((byte)2, second.Length + 1).ToArray();
        int total = 0;
        Eventually(() =>
        {
            var segments = new[] { new ArraySegment<byte>(one, total, Math.Max(0, one.Length - total)), new ArraySegment<byte>(two, Math.Max(0, total - one.Length), two.Length - Math.Max(0, total - one.Length)) };
            if (server.TryRead(segments, out int n))
            {
                total += n;
            }

            return total >= first.Length + second.Length;
        }, "vectored read");

        Assert.Equal(first, one);
        Assert.Equal(second, two[..second.Length]);
        Assert.Equal(2, two[^1]);
    }

    [Fact]
    public void Read_after_peer_close_returns_the_data_then_zero_and_reports_read_closed()
    {
        using var log = new EventLog();
        var (client, server) = TcpPair();
        using var _c = client;
        log.Registry.Register(client, ClientToken, Interest.Readable);

        Assert.True(server.TryWrite("last words"u8, out _));
        server.Dispose();

        Event ev = log.WaitFor(ClientToken, e => e.IsReadClosed);
        Assert.True(ev.IsReadable);
        var buffer = new byte[64];
        Assert.True(client.TryRead(buffer, out int read));
        Assert.Equal("last words"u8.ToArray(), buffer[..read]);
        Assert.True(client.TryRead(buffer, out read));
        Assert.Equal(0, read);
        Assert.True(client.TryRead(buffer, out read), "end of stream stays end of stream");
        Assert.Equal(0, read);
    }

    [Fact]
    public void Write_after_peer_reset_throws_connection_reset_or_shutdown()
    {
        using var log = new EventLog();
        var (client, server) = TcpPair();
        using var _c = client;
        log.Registry.Register(client, ClientToken, Interest.Readable | Interest.Writable);
        log.WaitFor(ClientToken, e => e.IsWritable);

        server.Linger = TimeSpan.Zero; // close with RST
        server.Dispose();

        Event ev = log.WaitFor(ClientToken, e => e.IsReadClosed || e.IsError);
        Assert.True(ev.IsReadClosed);
        Assert.True(ev.IsWriteClosed);

        var error = Assert.Throws<SocketException>(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                client.TryWrite(new byte[1024], out _);
            }
        });
        Assert.Contains(error.SocketErrorCode, new[] { SocketError.ConnectionReset, SocketError.Shutdown });
        Assert.Contains("write to TcpStream", error.Message);

        var again = Assert.Throws<SocketException>(() => client.TryWrite(new byte[1], out _));
        Assert.Equal(SocketError.Shutdown, again.SocketErrorCode);
    }

    [Fact]
    public void Read_after_peer_reset_throws_connection_reset()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        server.Linger = TimeSpan.Zero;
        server.Dispose();

        SocketException? error = null;
        Eventually(() =>
        {
            try
            {
                return client.TryRead(new byte[16], out _) && false;
            }
            catch (SocketException e)
            {
                error = e;
                return true;
            }
        }, "reset to arrive");
        Assert.Equal(SocketError.ConnectionReset, error!.SocketErrorCode);
        Assert.Equal(104, error.NativeErrorCode);
    }

    [Fact]
    public void Half_close_with_shutdown_send()
    {
        using var log = new EventLog();
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        log.Registry.Register(server, ServerToken, Interest.Readable);
        log.Registry.Register(client, ClientToken, Interest.Readable);

        Assert.True(client.TryWrite("request"u8, out _));
        client.Shutdown(SocketShutdown.Send);
        var shutdownWrite = Assert.Throws<SocketException>(() => client.TryWrite("more"u8, out _));
        Assert.Equal(SocketError.Shutdown, shutdownWrite.SocketErrorCode);

        log.WaitFor(ServerToken, e => e.IsReadClosed);
        Assert.Equal("request"u8.ToArray(), ReadExactly(server, 7));
        Assert.True(server.TryRead(new byte[8], out int end));
        Assert.Equal(0, end);

        // The other direction still works.
        Assert.True(server.TryWrite("response"u8, out _));
        server.Shutdown(SocketShutdown.Both);
        log.WaitFor(ClientToken, e => e.IsReadable);
        Assert.Equal("response"u8.ToArray(), ReadExactly(client, 8));
        Eventually(() => client.TryRead(new byte[8], out int n) && n == 0, "end of stream after the server's shutdown");
    }

    [Fact]
    public void Shutdown_receive_makes_reads_return_end_of_stream()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        client.Shutdown(SocketShutdown.Receive);
        Assert.True(client.TryRead(new byte[8], out int read));
        Assert.Equal(0, read);
        Assert.True(client.TryWrite("still writable"u8, out _));
        Assert.Equal("still writable"u8.ToArray(), ReadExactly(server, 14));
    }

    [Fact]
    public void Connect_refused_is_reported_as_writable_with_take_error_connection_refused()
    {
        IPEndPoint closed;
        using (var probe = TcpListener.Bind(LoopbackAny))
        {
            closed = probe.LocalEndPoint;
        }

        using var log = new EventLog();
        TcpStream stream;
        try
        {
            stream = TcpStream.Connect(closed);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return; // the kernel may refuse synchronously; both are correct outcomes
        }

        using var _ = stream;
        log.Registry.Register(stream, ClientToken, Interest.Readable | Interest.Writable);
        Event ev = log.WaitFor(ClientToken, e => e.IsWritable || e.IsError);
        Assert.True(ev.IsWriteClosed, ev.ToString());
        Assert.True(ev.IsError, ev.ToString());
        Assert.Equal(SocketError.ConnectionRefused, stream.TakeError());
        Assert.Equal(SocketError.Success, stream.TakeError()); // reading it cleared it
        var notConnected = Assert.Throws<SocketException>(() => stream.RemoteEndPoint);
        Assert.Equal(SocketError.NotConnected, notConnected.SocketErrorCode);
    }

    [Fact]
    public void Remote_end_point_throws_not_connected_until_connected()
    {
        using var stream = TcpStream.FromSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var error = Assert.Throws<SocketException>(() => stream.RemoteEndPoint);
        Assert.Equal(SocketError.NotConnected, error.SocketErrorCode);
        Assert.Contains("not connected", error.Message);
        Assert.Contains("TakeError", error.Message);
    }

    [Fact]
    public void Large_transfers_in_both_directions_with_partial_writes()
    {
        const int Size = 8 * 1024 * 1024;
        var random = new Random(4);
        byte[] up = new byte[Size];
        byte[] down = new byte[Size];
        random.NextBytes(up);
        random.NextBytes(down);
        byte[] receivedUp = new byte[Size];
        byte[] receivedDown = new byte[Size];

        using var poll = new Poll();
        var events = new Events(16);
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;
        client.SendBufferSize = 16 * 1024;
        server.ReceiveBufferSize = 16 * 1024;
        poll.Registry.Register(client, ClientToken, Interest.Readable | Interest.Writable);
        poll.Registry.Register(server, ServerToken, Interest.Readable | Interest.Writable);

        int sentUp = 0, sentDown = 0, gotUp = 0, gotDown = 0, wouldBlock = 0, partial = 0;
        DateTime end = DateTime.UtcNow + Deadline * 3;
        while (gotUp < Size || gotDown < Size)
        {
            Assert.True(DateTime.UtcNow < end, $"timed out: up {gotUp}/{Size}, down {gotDown}/{Size}");
            poll.Wait(events, TimeSpan.FromMilliseconds(500));
            foreach (Event ev in events)
            {
                TcpStream stream = ev.Token == ClientToken ? client : server;
                bool isClient = ev.Token == ClientToken;
                // Edge triggered: move as much as possible in both directions on every event.
                Pump(stream, isClient ? up : down, ref isClient ? ref sentUp : ref sentDown, isClient ? receivedDown : receivedUp, ref isClient ? ref gotDown : ref gotUp);
            }
        }

        Assert.Equal(up, receivedUp);
        Assert.Equal(down, receivedDown);
        Assert.True(wouldBlock > 0, "the transfer should have filled the socket buffers at least once");
        Assert.True(partial > 0 || wouldBlock > 0);

        void Pump(TcpStream stream, byte[] outgoing, ref int sent, byte[] incoming, ref int got)
        {
            while (sent < outgoing.Length)
            {
                int chunk = Math.Min(256 * 1024, outgoing.Length - sent);
                if (!stream.TryWrite(outgoing.AsSpan(sent, chunk), out int n))
                {
                    wouldBlock++;
                    break;
                }

                if (n < chunk)
                {
                    partial++;
                }

                sent += n;
            }

            while (got < incoming.Length && stream.TryRead(incoming.AsSpan(got), out int n))
            {
                Assert.NotEqual(0, n);
                got += n;
            }
        }
    }

    [Fact]
    public void Socket_options_round_trip()
    {
        var (client, server) = TcpPair();
        using var _c = client;
        using var _s = server;

        client.NoDelay = true;
        Assert.True(client.NoDelay);
        client.NoDelay = false;
        Assert.False(client.NoDelay);

        client.KeepAlive = true;
        Assert.True(client.KeepAlive);

        Assert.Null(client.Linger);
        client.Linger = TimeSpan.FromSeconds(3);
        Assert.Equal(TimeSpan.FromSeconds(3), client.Linger);
        client.Linger = TimeSpan.FromMilliseconds(1500);
        Assert.Equal(TimeSpan.FromSeconds(2), client.Linger);
        client.Linger = null;
        Assert.Null(client.Linger);

        client.ReceiveBufferSize = 32 * 1024;
        Assert.True(client.ReceiveBufferSize >= 32 * 1024); // Linux doubles it
        client.SendBufferSize = 32 * 1024;
        Assert.True(client.SendBufferSize >= 32 * 1024);

        client.Ttl = 10;
        Assert.Equal(10, client.Ttl);
        Assert.Equal(SocketError.Success, client.TakeError());

        Assert.Throws<ArgumentOutOfRangeException>(() => client.Ttl = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Ttl = 256);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Linger = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.ReceiveBufferSize = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.SendBufferSize = -1);
        Assert.Equal(10, client.Ttl); // unchanged by the refused sets
    }

    [IPv6Fact]
    public void Hop_limit_on_IPv6()
    {
        var (client, server) = TcpPair(IPAddress.IPv6Loopback);
        using var _c = client;
        using var _s = server;
        Assert.Equal(AddressFamily.InterNetworkV6, client.AddressFamily);
        client.Ttl = 42;
        Assert.Equal(42, client.Ttl);
    }

    [Fact]
    public void From_socket_takes_ownership_and_makes_it_non_blocking()
    {
        using var listener = TcpListener.Bind(LoopbackAny);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(listener.LocalEndPoint); // a blocking connect, done by "other code"
        IPEndPoint local = (IPEndPoint)socket.LocalEndPoint!;

        using var stream = TcpStream.FromSocket(socket);
        Assert.Throws<ObjectDisposedException>(() => socket.Send(new byte[1]));
        Assert.Equal(local, stream.LocalEndPoint);
        Assert.False(stream.TryRead(new byte[8], out _), "non-blocking: no data means false, not a hang");

        TcpStream? server = null;
        Eventually(() => listener.TryAccept(out server), "accept");
        using var _s = server!;
        Assert.True(stream.TryWrite("adopted"u8, out _));
        Assert.Equal("adopted"u8.ToArray(), ReadExactly(server!, 7));

        using var poll = new Poll();
        poll.Registry.Register(stream, ClientToken, Interest.Writable);
        WaitFor(poll, new Events(4), ClientToken, e => e.IsWritable);
    }

    [Fact]
    public void From_socket_rejects_what_is_not_a_tcp_connection()
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var error = Assert.Throws<ArgumentException>(() => TcpStream.FromSocket(udp));
        Assert.Contains("TCP", error.Message);
        udp.Bind(LoopbackAny); // still usable: left untouched

        using var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(LoopbackAny);
        listening.Listen();
        var wrongKind = Assert.Throws<ArgumentException>(() => TcpStream.FromSocket(listening));
        Assert.Contains("TcpListener.FromSocket", wrongKind.Message);
        Assert.True(listening.IsBound);

        Assert.Throws<ArgumentNullException>(() => TcpStream.FromSocket(null!));
    }

    [Fact]
    public void Handle_exposes_the_descriptor_for_own_system_calls()
    {
        var (client, server) = TcpPair();
        using var _s = server;
        int fd = (int)client.Handle.DangerousGetHandle();
        Assert.True(fd > 2);
        Assert.StartsWith("socket:", new FileInfo($"/proc/self/fd/{fd}").LinkTarget);
        Assert.Contains($"fd {fd}", client.ToString());
        client.Dispose();
        Assert.True(client.Handle.IsClosed);
        Assert.Equal("TcpStream(disposed)", client.ToString());
    }

    [Fact]
    public void Disposed_stream_throws_object_disposed_on_every_member()
    {
        var (client, server) = TcpPair();
        using var _s = server;
        client.Dispose();
        client.Dispose(); // idempotent

        var error = Assert.Throws<ObjectDisposedException>(() => client.TryRead(new byte[1], out _));
        Assert.Contains("disposed", error.Message);
        Assert.Throws<ObjectDisposedException>(() => client.TryWrite(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => client.TryPeek(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => client.TryWrite([new ArraySegment<byte>(new byte[1])], out _));
        Assert.Throws<ObjectDisposedException>(() => client.Shutdown(SocketShutdown.Both));
        Assert.Throws<ObjectDisposedException>(() => client.NoDelay = true);
        Assert.Throws<ObjectDisposedException>(() => client.LocalEndPoint);
        Assert.Throws<ObjectDisposedException>(() => client.RemoteEndPoint);
        Assert.Throws<ObjectDisposedException>(() => client.TakeError());
    }
}
