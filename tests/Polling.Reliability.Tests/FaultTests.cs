using System.Diagnostics;

namespace Polling.Reliability.Tests;

/// <summary>
/// Faults a server meets in the field, injected one at a time on both backends: the peer resets while we write, the
/// peer half-closes, a connect is refused, a connect meets a full backlog, a write meets a closed reader (EPIPE).
/// Each asserts what docs/design.md documents — the event flags and the exception type, error code and message —
/// and then that the loop lives on: the same Poll still reports, and an <see cref="EchoServer"/> (on its own loop, in
/// this process) that met the same fault still serves a new client.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void PeerResetMidWrite_reports_write_closed_throws_connection_reset_then_epipe_and_the_loop_lives_on(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(16);
        (TcpStream local, Socket peer) = Pair(receiveBuffer: 4096);
        using var _local = local;
        poll.Registry.Register(local, (Token)1, Interest.Readable | Interest.Writable);
        long written = FillUntilWouldBlock(local);   // mid-write: the peer's window is full, more is queued here
        Assert.True(written > 0);

        int peerPort = ((IPEndPoint)peer.LocalEndPoint!).Port;
        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose();   // RST
        Event ev = WaitFor(poll, events, (Token)1, e => e.IsWriteClosed);
        Assert.True(ev.IsError, "a reset reports IsError (EPOLLERR)");
        Assert.True(ev.IsReadClosed, "a reset reports IsReadClosed too");

        var reset = Assert.Throws<SocketException>(() => local.TryWrite(new byte[100], out _));
        Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
        AssertMessageNames(reset, peerPort);
        var epipe = Assert.Throws<SocketException>(() => local.TryWrite(new byte[100], out _));   // EPIPE, and no SIGPIPE
        Assert.Equal(SocketError.Shutdown, epipe.SocketErrorCode);
        AssertMessageNames(epipe, peerPort);
        AssertLoopLivesOn(poll, events);

        using var server = new EchoServer(backend);
        using (var client = Blocking(server.EndPoint, receiveBuffer: 4096))
        {
            client.Blocking = false;
            SendUntilWouldBlock(client);   // the server echoes into a window that does not open
            Eventually(() => server.BytesEchoed > 0, "the server started echoing");
            client.LingerState = new LingerOption(true, 0);
        }

        Eventually(() => server.ConnectionFaults == 1 && server.Live == 0, "the server closed the reset connection");
        AssertServes(server);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void PeerHalfClose_reports_read_closed_only_reads_to_end_of_stream_and_the_other_direction_still_works(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(16);
        (TcpStream local, Socket peer) = Pair();
        using var _l = local;
        using var _p = peer;
        poll.Registry.Register(local, (Token)1, Interest.Readable);
        peer.Send("last words"u8);
        peer.Shutdown(SocketShutdown.Send);

        Event ev = WaitFor(poll, events, (Token)1, e => e.IsReadClosed);
        Assert.True(ev.IsReadable);
        Assert.False(ev.IsWriteClosed, "a half-close leaves our direction open");
        Assert.False(ev.IsError);
        byte[] buffer = new byte[64];
        int total = 0;
        while (local.TryRead(buffer.AsSpan(total), out int read) && read > 0)
        {
            total += read;
        }

        Assert.Equal("last words", System.Text.Encoding.ASCII.GetString(buffer, 0, total));
        Assert.True(local.TryRead(buffer, out int end) && end == 0, "end of stream is TryRead true with 0, again and again");

        Assert.True(local.TryWrite("the answer"u8, out int sent) && sent == 10);   // the other direction still works
        local.Shutdown(SocketShutdown.Send);
        peer.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
        Assert.Equal("the answer", ReceiveToEnd(peer));
        AssertLoopLivesOn(poll, events);

        using var server = new EchoServer(backend);
        using (var client = Blocking(server.EndPoint))
        {
            client.Send("half-closed echo"u8);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("half-closed echo", ReceiveToEnd(client));   // the echo, then the server's FIN
        }

        Eventually(() => server.Live == 0, "the server closed after the half-close");
        Assert.Equal(0, server.ConnectionFaults);
        AssertServes(server);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void RefusedConnect_reports_write_closed_and_try_finish_connect_throws_connection_refused_naming_the_endpoint(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(16);
        IPEndPoint closed;
        using (var probe = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            closed = probe.LocalEndPoint;
        }

        for (int attempt = 0; attempt < 20; attempt++)
        {
            using var stream = TcpStream.Connect(closed);
            poll.Registry.Register(stream, (Token)7, Interest.Writable);
            Event ev = WaitFor(poll, events, (Token)7, e => e.IsWriteClosed);
            Assert.True(ev.IsError, "a refused connect reports IsError (EPOLLERR)");
            var refused = Assert.Throws<SocketException>(() => stream.TryFinishConnect());
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Contains(closed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        }

        AssertLoopLivesOn(poll, events);
        using var server = new EchoServer(backend);
        using var good = TcpStream.Connect(server.EndPoint);
        poll.Registry.Register(good, (Token)8, Interest.Writable);
        WaitFor(poll, events, (Token)8, e => e.IsWritable && good.TryFinishConnect());   // the same loop connects fine afterwards
        AssertServes(server);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void ConnectToAFullBacklog_stays_pending_without_error_then_every_client_is_served_once_the_server_accepts(PollBackend backend)
    {
        const int Clients = 8;
        using var server = new EchoServer(backend, backlog: 1, accepting: false);
        using var poll = new Poll(backend);
        var events = new Events(64);
        var streams = Enumerable.Range(0, Clients).Select(_ => TcpStream.Connect(server.EndPoint)).ToArray();
        try
        {
            var connected = new bool[Clients];
            var sent = new bool[Clients];
            var echoed = new bool[Clients];
            byte[] buffer = new byte[64];
            for (int i = 0; i < Clients; i++)
            {
                poll.Registry.Register(streams[i], (Token)(ulong)i, Interest.Readable | Interest.Writable);
            }

            // Connect, send one byte, read it back; every step may find would-block (spurious events included).
            void Progress(int i)
            {
                if (!connected[i] && !(connected[i] = streams[i].TryFinishConnect()))
                {
                    return;
                }

                if (!sent[i])
                {
                    sent[i] = streams[i].TryWrite([(byte)i], out int one) && one == 1;
                }

                if (sent[i] && !echoed[i] && streams[i].TryRead(buffer, out int read) && read > 0)
                {
                    Assert.Equal(1, read);
                    Assert.Equal((byte)i, buffer[0]);
                    echoed[i] = true;
                }
            }

            // While nobody accepts, the kernel queues backlog + 1 handshakes and drops the other SYNs: those connects
            // stay in progress (TryFinishConnect false), with no error.
            var window = Stopwatch.StartNew();
            while (window.Elapsed < TimeSpan.FromMilliseconds(300))
            {
                poll.Wait(events, TimeSpan.FromMilliseconds(50));
                foreach (Event ev in events)
                {
                    int i = (int)(ulong)ev.Token;
                    Assert.False(ev.IsError, $"client {i}: an error while the backlog is full");
                    Progress(i);
                }
            }

            int early = connected.Count(c => c);
            Assert.True(early < Clients, $"all {Clients} connects completed against a backlog of 1: the backlog was not full");
            Assert.Equal(0, echoed.Count(e => e));

            server.StartAccepting();
            var clock = Stopwatch.StartNew();
            while (echoed.Any(e => !e))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"after 30 s {echoed.Count(e => e)} of {Clients} clients were served ({server.Accepted} accepted)");
                poll.Wait(events, TimeSpan.FromMilliseconds(200));
                foreach (Event ev in events)
                {
                    Assert.False(ev.IsError, $"client {(ulong)ev.Token}: an error after the server began accepting");
                    Progress((int)(ulong)ev.Token);
                }
            }

            output.WriteLine($"{backend}: {early} of {Clients} handshakes completed against the full backlog; all {Clients} served {clock.ElapsedMilliseconds} ms after accepting began");
        }
        finally
        {
            foreach (TcpStream stream in streams)
            {
                stream.Dispose();
            }
        }

        Eventually(() => server.Live == 0, "the server closed the served clients");
        AssertServes(server);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void WriteToAClosedReader_reports_write_closed_throws_IO_exception_epipe_and_no_signal_kills_the_process(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(16);
        var (sender, receiver) = Pipe.Create();
        using var _s = sender;
        poll.Registry.Register(sender, (Token)3, Interest.Writable);
        receiver.Dispose();
        Event ev = WaitFor(poll, events, (Token)3, e => e.IsWriteClosed);
        Assert.True(ev.IsError, "a pipe whose reader closed reports IsError");
        for (int i = 0; i < 3; i++)
        {
            var epipe = Assert.Throws<IOException>(() => sender.TryWrite("x"u8, out _));
            Assert.Equal(32, epipe.HResult);   // EPIPE
            Assert.False(string.IsNullOrWhiteSpace(epipe.Message));
        }

        // A TCP stream that shut its own sending side: EPIPE as SocketError.Shutdown, no SIGPIPE either.
        (TcpStream local, Socket peer) = Pair();
        using var _l = local;
        using var _p = peer;
        local.Shutdown(SocketShutdown.Send);
        var shut = Assert.Throws<SocketException>(() => local.TryWrite("x"u8, out _));
        Assert.Equal(SocketError.Shutdown, shut.SocketErrorCode);
        AssertMessageNames(shut, ((IPEndPoint)peer.LocalEndPoint!).Port);
        AssertLoopLivesOn(poll, events);

        using var server = new EchoServer(backend);
        using (var client = Blocking(server.EndPoint, receiveBuffer: 4096))
        {
            client.Blocking = false;
            SendUntilWouldBlock(client);
            Eventually(() => server.BytesEchoed > 0, "the server started echoing");
            client.Shutdown(SocketShutdown.Receive);
            client.LingerState = new LingerOption(true, 0);
        }

        Eventually(() => server.Live == 0, "the server closed the connection whose reader went away");
        AssertServes(server);
    }

    private static (TcpStream Local, Socket Peer) Pair(int receiveBuffer = 0)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0)
        {
            listener.ReceiveBufferSize = receiveBuffer;   // inherited by the accepted peer
        }

        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var local = TcpStream.Connect((IPEndPoint)listener.LocalEndPoint!);
        Socket peer = listener.Accept();
        Eventually(local.TryFinishConnect, "connected");
        return (local, peer);
    }

    private static Socket Blocking(IPEndPoint server, int receiveBuffer = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0)
        {
            socket.ReceiveBufferSize = receiveBuffer;
        }

        socket.Connect(server);
        socket.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
        return socket;
    }

    private static long FillUntilWouldBlock(TcpStream stream)
    {
        byte[] chunk = new byte[16 * 1024];
        long total = 0;
        while (stream.TryWrite(chunk, out int written))
        {
            total += written;
            Assert.True(total < 256L * 1024 * 1024, "256 MiB written without would-block");
        }

        return total;
    }

    private static void SendUntilWouldBlock(Socket socket)
    {
        byte[] chunk = new byte[16 * 1024];
        long total = 0;
        while (socket.Send(chunk, SocketFlags.None, out SocketError error) > 0 && error == SocketError.Success)
        {
            total += chunk.Length;
            Assert.True(total < 256L * 1024 * 1024, "256 MiB sent without would-block");
        }
    }

    private static string ReceiveToEnd(Socket socket)
    {
        var text = new System.Text.StringBuilder();
        byte[] buffer = new byte[256];
        int read;
        while ((read = socket.Receive(buffer)) > 0)
        {
            text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    /// <summary>The message names the operation and the socket, peer included (docs/design.md, Errors).</summary>
    private static void AssertMessageNames(SocketException error, int peerPort)
    {
        Assert.Contains("write to TcpStream(", error.Message, StringComparison.Ordinal);
        Assert.Contains($":{peerPort}", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The Poll that met the fault still works: a waker registered now is reported by the next wait.</summary>
    private static void AssertLoopLivesOn(Poll poll, Events events)
    {
        using var waker = new Waker(poll.Registry, (Token)0xFEED);
        waker.Wake();
        WaitFor(poll, events, (Token)0xFEED, _ => true);
    }

    /// <summary>The echo server that met the fault still serves a new client, byte for byte.</summary>
    private static void AssertServes(EchoServer server)
    {
        using var client = Blocking(server.EndPoint);
        client.Send("still serving"u8);
        byte[] buffer = new byte[13];
        int total = 0;
        while (total < buffer.Length)
        {
            int read = client.Receive(buffer, total, buffer.Length - total, SocketFlags.None);
            Assert.True(read > 0, "the server closed instead of echoing");
            total += read;
        }

        Assert.Equal("still serving", System.Text.Encoding.ASCII.GetString(buffer));
        server.AssertAlive();
    }

    private static Event WaitFor(Poll poll, Events events, Token token, Func<Event, bool> predicate)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (ev.Token == token && predicate(ev))
                {
                    return ev;
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"no matching event for token {(ulong)token} within {Deadline.TotalSeconds} s");
    }

    private static void Eventually(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"timed out waiting for: {what}");
            Thread.Sleep(1);
        }
    }
}
