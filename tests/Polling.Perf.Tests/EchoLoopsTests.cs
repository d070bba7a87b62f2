using System.Diagnostics;
using System.Net;
using Polling.Net;
using TcpEcho;
using Xunit;

namespace Polling.Perf.Tests;

/// <summary>TcpEcho's <c>--loops N</c>: N Polls on N threads with SO_REUSEPORT listeners on one port.</summary>
public class EchoLoopsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void N_loops_share_one_port_and_echo_every_byte(int loops)
    {
        const int Clients = 64;
        using var server = new EchoLoops(new IPEndPoint(IPAddress.Loopback, 0), loops);
        Assert.All(server.Servers, s => Assert.Equal(server.LocalEndPoint, s.LocalEndPoint));
        var thread = new Thread(server.Run) { Name = "echo loops" };
        thread.Start();
        try
        {
            using var poll = new Poll();
            var clients = new TcpStream[Clients];
            var messages = new byte[Clients][];
            var received = new int[Clients];
            byte[] buffer = new byte[4096];
            for (int i = 0; i < Clients; i++)
            {
                clients[i] = TcpStream.Connect(server.LocalEndPoint);
                messages[i] = new byte[1000 + i];
                new Random(i).NextBytes(messages[i]);
                poll.Registry.Register(clients[i], (Token)i, Interest.Writable | Interest.Readable);
            }

            var sent = new bool[Clients];
            var events = new Events(256);
            int done = 0;
            var clock = Stopwatch.StartNew();
            while (done < Clients)
            {
                Assert.True(clock.Elapsed < Deadline, $"{done} of {Clients} echoes complete within the deadline");
                poll.Wait(events, TimeSpan.FromMilliseconds(100));
                foreach (Event ev in events)
                {
                    int i = (int)ev.Token;
                    if (ev.IsWritable && !sent[i] && clients[i].TryWrite(messages[i], out int written))
                    {
                        Assert.Equal(messages[i].Length, written);
                        sent[i] = true;
                    }

                    while (received[i] < messages[i].Length && clients[i].TryRead(buffer, out int n))
                    {
                        Assert.True(n > 0, "the server does not close first");
                        Assert.Equal(messages[i].AsSpan(received[i], n), buffer.AsSpan(0, n));
                        received[i] += n;
                        if (received[i] == messages[i].Length)
                        {
                            done++;
                        }
                    }
                }
            }

            Assert.Equal(Clients, server.AcceptedConnections);
            if (loops > 1)
            {
                // The kernel hashes connections over the listeners: with 64 clients every loop gets some.
                Assert.All(server.Servers, s => Assert.True(s.AcceptedConnections > 0, "every loop accepted connections"));
            }

            foreach (TcpStream client in clients)
            {
                client.Dispose();
            }
        }
        finally
        {
            server.Stop();
            Assert.True(thread.Join(Deadline), "every loop stops");
        }
    }

    [Fact]
    public void Loop_counts_outside_1_to_1024_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EchoLoops(new IPEndPoint(IPAddress.Loopback, 0), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EchoLoops(new IPEndPoint(IPAddress.Loopback, 0), 1025));
    }
}
