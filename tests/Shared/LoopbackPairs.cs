using System.Net;
using System.Net.Sockets;
using Polling.Net;

namespace Polling.TestSupport;

/// <summary>Connected loopback pairs for the tests of Polling.Net and its building blocks (one copy, linked into each project).</summary>
internal static class LoopbackPairs
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>A connected loopback TCP pair (client from Connect, server from TryAccept), both non-blocking and unregistered.</summary>
    /// <param name="address">The loopback address to listen on; 127.0.0.1 by default (e.g. <see cref="IPAddress.IPv6Loopback"/>).</param>
    public static (TcpStream Client, TcpStream Server) TcpPair(IPAddress? address = null)
    {
        using var listener = Polling.Net.TcpListener.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        var client = TcpStream.Connect(listener.LocalEndPoint);
        TcpStream? server = null;
        Within(() => listener.TryAccept(out server), "accept");
        Within(() =>
        {
            try
            {
                _ = client.RemoteEndPoint;
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, "connect");
        return (client, server!);
    }

    /// <summary>Retries <paramref name="attempt"/> every millisecond until it returns true; fails after the deadline.</summary>
    private static void Within(Func<bool> attempt, string what)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (!attempt())
        {
            if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for: {what}");
            }

            Thread.Sleep(1);
        }
    }
}
