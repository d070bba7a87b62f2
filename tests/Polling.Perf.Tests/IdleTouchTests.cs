using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpEcho;
using Xunit;

namespace Polling.Perf.Tests;

/// <summary>
/// TcpEcho stamps activity instead of restarting a timer per read and checks the stamp when the idle timer fires:
/// an active client must never be closed, and a client that goes quiet must be closed one timeout after its last
/// message — not one timeout after it connected, and not early.
/// </summary>
public class IdleTouchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    // The client below must talk more often than the timeout even on a loaded CI machine, where a thread that sleeps
    // 100 ms can wake hundreds of milliseconds late: a 1.5 s timeout against 100 ms pacing leaves a 15x margin.
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan Pacing = TimeSpan.FromMilliseconds(100);

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_client_that_keeps_talking_survives_and_is_closed_one_timeout_after_its_last_message(PollBackend backend)
    {
        using var server = new EchoServer(new IPEndPoint(IPAddress.Loopback, 0), new EchoServerOptions { Backend = backend, IdleTimeout = Timeout });
        using var cancel = new CancellationTokenSource();
        var thread = new Thread(() => server.Run(cancel.Token)) { Name = "echo" };
        thread.Start();
        try
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Deadline.TotalMilliseconds };
            client.Connect(server.LocalEndPoint);
            var sinceConnect = Stopwatch.StartNew();
            byte[] one = [42];
            byte[] reply = new byte[1];

            // Talk every Pacing for 3 timeouts: every idle timer that fires in between finds the client active.
            var sinceLastSend = new Stopwatch();
            while (true)
            {
                sinceLastSend.Restart(); // the server stamps the message after it was sent: at or after this
                Assert.Equal(1, client.Send(one));
                Assert.Equal(1, client.Receive(reply)); // an echo, not the end of stream: still open
                Assert.Equal(42, reply[0]);
                if (sinceConnect.Elapsed >= 3 * Timeout)
                {
                    break;
                }

                Thread.Sleep(Pacing); // pacing the client, not waiting for the server
            }

            Assert.Equal(0, client.Receive(reply)); // now quiet: the server closes it
            Assert.True(sinceLastSend.Elapsed >= Timeout,
                $"closed {sinceLastSend.Elapsed.TotalMilliseconds} ms after the last message was sent; the timeout is {Timeout.TotalMilliseconds} ms");
            Assert.Equal(1, server.IdleClosedConnections);
        }
        finally
        {
            cancel.Cancel();
            Assert.True(thread.Join(Deadline));
        }
    }
}
