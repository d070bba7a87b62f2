using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

[Collection(nameof(DescriptorCounting))]
public sealed class UdpDescriptorTests
{
    [Fact]
    public void TenThousandBindDisposeCycles_leak_no_descriptors()
    {
        using var poll = new Poll();
        for (int i = 0; i < 100; i++)
        {
            UdpSocket.Bind(LoopbackAny).Dispose();
        }

        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized
        var sockets = new List<UdpSocket>(10_000);
        for (int i = 0; i < 10_000; i++)
        {
            var socket = UdpSocket.Bind(LoopbackAny);
            sockets.Add(socket);
            if (i % 2 == 0)
            {
                poll.Registry.Register(socket, (Token)i, Interest.Readable);
            }

            socket.Dispose();
        }

        Descriptors.AssertAllClosed(sockets.Select(s => s.Handle), "UDP sockets");
        Descriptors.AssertNoneLeakedSince(before, sockets);
    }

    [Fact]
    public void FailedBinds_leak_no_descriptors()
    {
        using var taken = UdpSocket.Bind(LoopbackAny);
        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized
        for (int i = 0; i < 1_000; i++)
        {
            Assert.Throws<SocketException>(() => UdpSocket.Bind(taken.LocalEndPoint));
        }

        Descriptors.AssertNoneLeakedSince(before);
    }
}

public sealed class UdpAllocationTests
{
    [Fact]
    public void SendToReceiveFromWithSocketAddress_allocates_nothing()
    {
        using var poll = new Poll();
        var events = new Events(8);
        using var client = UdpSocket.Bind(LoopbackAny);
        using var server = UdpSocket.Bind(LoopbackAny);
        poll.Registry.Register(server, (Token)1, Interest.Readable);
        poll.Registry.Register(client, (Token)2, Interest.Readable);
        SocketAddress serverAddress = server.LocalEndPoint.Serialize();
        var peer = new SocketAddress(AddressFamily.InterNetwork);
        var fromServer = new SocketAddress(AddressFamily.InterNetwork);
        byte[] payload = new byte[64];
        byte[] buffer = new byte[2048];

        Run(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                client.TrySendTo(payload, serverAddress, out _);
                poll.Wait(events, TimeSpan.FromSeconds(5));
                while (server.TryReceiveFrom(buffer, out int n, peer))
                {
                    server.TrySendTo(buffer.AsSpan(0, n), peer, out _);
                }

                while (!client.TryReceiveFrom(buffer, out _, fromServer))
                {
                    poll.Wait(events, TimeSpan.FromSeconds(5));
                }
            }
        }
    }

    [Fact]
    public void SendToIPEndPointAndConnectedSendReceive_allocate_nothing()
    {
        using var a = UdpSocket.Bind(LoopbackAny);
        using var b = UdpSocket.Bind(LoopbackAny);
        IPEndPoint bAddress = b.LocalEndPoint;
        a.Connect(bAddress);
        b.Connect(a.LocalEndPoint);
        byte[] payload = new byte[32];
        byte[] buffer = new byte[64];

        Run(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                a.TrySendTo(payload, bAddress, out _);
                a.TrySend(payload, out _);
                while (b.TryReceive(buffer, out _))
                {
                }

                b.TryPeek(buffer, out _);
            }
        }
    }
}
