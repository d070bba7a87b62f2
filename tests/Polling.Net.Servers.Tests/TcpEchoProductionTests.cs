using TcpEcho;
using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>Issue 9 item 6 for TcpEcho: idle clients are closed, shutdown delivers pending output and ends with FIN, a reset client costs nobody else.</summary>
public class TcpEchoProductionTests
{
    [Theory]
    [MemberData(nameof(BackendsAndTriggers), MemberType = typeof(Helpers))]
    public void A_client_that_sends_nothing_is_closed_after_the_idle_timeout(PollBackend backend, Trigger trigger)
    {
        using var server = new EchoServer(LoopbackAny, new EchoServerOptions { Backend = backend, Trigger = trigger, IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var cancel = new CancellationTokenSource();
        var thread = new Thread(() => server.Run(cancel.Token));
        thread.Start();
        try
        {
            using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Deadline.TotalMilliseconds };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            silent.Connect(server.LocalEndPoint);
            Assert.Equal(0, silent.Receive(new byte[1])); // the server closes it: end of stream
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), $"closed after {clock.Elapsed.TotalMilliseconds} ms, before the idle timeout");
            Eventually(() => server.IdleClosedConnections == 1, "counted as idle-closed");
        }
        finally
        {
            cancel.Cancel();
            Assert.True(thread.Join(Deadline));
        }
    }

    /// <summary>
    /// A client that sends as fast as it can and reads none of the echo, until the server holds output back for it
    /// (its high-water mark) — then the server is stopped: it stops reading, keeps flushing, then shuts down
    /// writing. The client gets every echoed byte (a prefix of what it sent, at least what was pending) and then
    /// end of stream, not a reset.
    /// </summary>
    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Stop_flushes_pending_output_then_ends_the_stream_cleanly(PollBackend backend)
    {
        using var server = new EchoServer(LoopbackAny, new EchoServerOptions { Backend = backend, ShutdownGrace = TimeSpan.FromSeconds(20) })
        {
            ConnectionSendBufferSize = 16 * 1024,
        };
        var thread = new Thread(server.Run);
        thread.Start();
        try
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.ReceiveBufferSize = 16 * 1024;
            client.Connect(server.LocalEndPoint);
            client.Blocking = false;
            var message = new byte[16 * 1024 * 1024];
            new Random(5).NextBytes(message);
            int sent = 0;
            Eventually(() =>
            {
                while (sent < message.Length)
                {
                    int n = client.Send(message.AsSpan(sent, Math.Min(64 * 1024, message.Length - sent)), SocketFlags.None, out SocketError error);
                    if (error != SocketError.Success)
                    {
                        Assert.Equal(SocketError.WouldBlock, error);
                        break;
                    }

                    sent += n;
                }

                return server.PeakPendingBytes >= EchoServer.HighWaterMark;
            }, "the server holds output back for the client that does not read");
            int pending = server.PeakPendingBytes;

            server.Stop();
            client.Blocking = true;
            client.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
            var received = new byte[sent];
            int got = 0;
            while (true)
            {
                int n = client.Receive(received.AsSpan(got)); // a reset would throw here
                if (n == 0)
                {
                    break; // FIN: an orderly end
                }

                got += n;
            }

            client.Shutdown(SocketShutdown.Send); // as a client does at end of stream: the server may close now
            Assert.True(got >= pending, $"received {got} bytes, but {pending} were pending at the stop");
            Assert.True(message.AsSpan(0, got).SequenceEqual(received.AsSpan(0, got)), "the echo is a prefix of what was sent");
            Assert.True(thread.Join(Deadline), "Run returns once every connection is done");
        }
        finally
        {
            server.Stop();
            thread.Join(Deadline);
        }
    }

    [Fact]
    public void A_reset_client_costs_nobody_else()
    {
        using var server = new EchoServer(LoopbackAny);
        using var cancel = new CancellationTokenSource();
        var thread = new Thread(() => server.Run(cancel.Token));
        thread.Start();
        try
        {
            using var good = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Deadline.TotalMilliseconds };
            good.Connect(server.LocalEndPoint);
            for (int i = 0; i < 50; i++)
            {
                using var rude = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                rude.Connect(server.LocalEndPoint);
                rude.Send(new byte[200_000]);
                rude.LingerState = new LingerOption(true, 0); // close = RST
            }

            good.Send("still here"u8);
            var echo = new byte[10];
            int got = 0;
            while (got < echo.Length)
            {
                got += good.Receive(echo.AsSpan(got));
            }

            Assert.Equal("still here"u8.ToArray(), echo);
            Eventually(() => server.OpenConnections == 1, "the reset clients were closed");
        }
        finally
        {
            cancel.Cancel();
            Assert.True(thread.Join(Deadline));
        }
    }
}
