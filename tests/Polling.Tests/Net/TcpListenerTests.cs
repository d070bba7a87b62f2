using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Tests.Net;

public class TcpListenerTests
{
    private const Token ListenerToken = (Token)0;

    [Fact]
    public void Bind_to_port_zero_reports_the_chosen_port()
    {
        using var listener = TcpListener.Bind(LoopbackAny);
        IPEndPoint local = listener.LocalEndPoint;
        Assert.Equal(IPAddress.Loopback, local.Address);
        Assert.NotEqual(0, local.Port);
        Assert.Contains(local.ToString(), listener.ToString());
    }

    [Fact]
    public void Try_accept_returns_false_when_no_connection_is_waiting()
    {
        using var listener = TcpListener.Bind(LoopbackAny);
        Assert.False(listener.TryAccept(out TcpStream? stream));
        Assert.Null(stream);
        Assert.False(listener.TryAccept(out stream, out IPEndPoint? remote));
        Assert.Null(remote);
    }

    [Fact]
    public void Edge_triggered_accept_takes_every_waiting_connection_then_goes_quiet()
    {
        using var log = new EventLog();
        using var listener = TcpListener.Bind(LoopbackAny);
        log.Registry.Register(listener, ListenerToken, Interest.Readable);
        var clients = Enumerable.Range(0, 5).Select(_ => TcpStream.Connect(listener.LocalEndPoint)).ToList();
        try
        {
            var accepted = new List<TcpStream>();
            while (accepted.Count < clients.Count)
            {
                log.WaitFor(ListenerToken, e => e.IsReadable);
                while (listener.TryAccept(out TcpStream? stream, out IPEndPoint? remote))
                {
                    Assert.Contains(clients, c => c.LocalEndPoint.Equals(remote));
                    accepted.Add(stream);
                }
            }

            Assert.Empty(log.Drain(ListenerToken));
            accepted.ForEach(s => s.Dispose());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Binding_an_address_in_use_throws_address_already_in_use()
    {
        using var first = TcpListener.Bind(LoopbackAny);
        var error = Assert.Throws<SocketException>(() => TcpListener.Bind(first.LocalEndPoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains(first.LocalEndPoint.ToString(), error.Message);
        Assert.Contains("bind", error.Message);
    }

    [Fact]
    public void Reuse_port_lets_two_listeners_share_a_port()
    {
        var options = new TcpListenerOptions { ReusePort = true };
        using var first = TcpListener.Bind(LoopbackAny, options);
        using var second = TcpListener.Bind(first.LocalEndPoint, options);
        Assert.Equal(first.LocalEndPoint, second.LocalEndPoint);

        var clients = Enumerable.Range(0, 32).Select(_ => TcpStream.Connect(first.LocalEndPoint)).ToList();
        int accepted = 0;
        Eventually(() =>
        {
            while (first.TryAccept(out TcpStream? s)) { s.Dispose(); accepted++; }
            while (second.TryAccept(out TcpStream? s)) { s.Dispose(); accepted++; }
            return accepted == clients.Count;
        }, "all connections accepted by one of the two listeners");
        clients.ForEach(c => c.Dispose());
    }

    [IPv6Fact]
    public void Dual_mode_listener_accepts_IPv4_clients_as_mapped_addresses()
    {
        // An IPv4-mapped loopback address binds only on a dual-mode socket, and keeps the test on loopback.
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 0), TcpListenerOptions.Default with { DualMode = true });
        using var client = TcpStream.Connect(new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port));
        TcpStream? server = null;
        IPEndPoint? remote = null;
        Eventually(() => listener.TryAccept(out server, out remote), "accept");
        using var _ = server!;
        Assert.True(remote!.Address.IsIPv4MappedToIPv6);
        Assert.Equal(IPAddress.Loopback, remote.Address.MapToIPv4());
        Assert.Equal(client.LocalEndPoint.Port, remote.Port);
    }

    [IPv6Fact]
    public void IPv6_listener_is_IPv6_only_by_default()
    {
        // Without DualMode the socket is IPv6-only, so an IPv4-mapped address cannot be bound at all.
        using var v6 = TcpListener.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        Assert.Equal(AddressFamily.InterNetworkV6, v6.LocalEndPoint.AddressFamily);
        Assert.Throws<SocketException>(() => TcpListener.Bind(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 0)));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Equal(1024, TcpListenerOptions.Default.Backlog);
        Assert.False(TcpListenerOptions.Default.ReusePort);
        Assert.False(TcpListenerOptions.Default.DualMode);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TcpListenerOptions { Backlog = 0 });
        Assert.Equal("Backlog", error.ParamName);

        var dual = Assert.Throws<ArgumentException>(() => TcpListener.Bind(LoopbackAny, new TcpListenerOptions { DualMode = true }));
        Assert.Contains("IPv6Any", dual.Message);
        Assert.Throws<ArgumentNullException>(() => TcpListener.Bind(null!));
        Assert.Throws<ArgumentNullException>(() => TcpListener.Bind(LoopbackAny, null!));
    }

    [Fact]
    public void Backlog_is_passed_to_listen()
    {
        using var listener = TcpListener.Bind(LoopbackAny, new TcpListenerOptions { Backlog = 1 });
        // With backlog 1 the kernel completes at most backlog+1 handshakes; the rest wait in SYN state.
        var clients = Enumerable.Range(0, 8).Select(_ => TcpStream.Connect(listener.LocalEndPoint)).ToList();
        try
        {
            int accepted = 0;
            Eventually(() =>
            {
                while (listener.TryAccept(out TcpStream? s)) { s.Dispose(); accepted++; }
                return accepted > 0;
            }, "the first connection");
            Thread.Sleep(200); // not for correctness: gives more handshakes a chance to (wrongly) complete
            while (listener.TryAccept(out TcpStream? s)) { s.Dispose(); accepted++; }
            Assert.InRange(accepted, 1, 3);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Ttl_and_take_error()
    {
        using var listener = TcpListener.Bind(LoopbackAny);
        listener.Ttl = 33;
        Assert.Equal(33, listener.Ttl);
        Assert.Equal(SocketError.Success, listener.TakeError());
    }

    [Fact]
    public void From_socket_takes_over_a_listening_socket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(LoopbackAny);
        socket.Listen(16);
        var endpoint = (IPEndPoint)socket.LocalEndPoint!;

        using var listener = TcpListener.FromSocket(socket);
        Assert.Throws<ObjectDisposedException>(() => socket.Accept());
        Assert.Equal(endpoint, listener.LocalEndPoint);
        Assert.False(listener.TryAccept(out _), "non-blocking");

        using var log = new EventLog();
        log.Registry.Register(listener, ListenerToken, Interest.Readable);
        using var client = TcpStream.Connect(endpoint);
        log.WaitFor(ListenerToken, e => e.IsReadable);
        Assert.True(listener.TryAccept(out TcpStream? server));
        server.Dispose();
    }

    [Fact]
    public void From_socket_rejects_a_non_listening_socket()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(LoopbackAny);
        var error = Assert.Throws<ArgumentException>(() => TcpListener.FromSocket(socket));
        Assert.Contains("Listen", error.Message);
        socket.Listen(); // left untouched and usable
        Assert.Throws<ArgumentNullException>(() => TcpListener.FromSocket(null!));
    }
}
