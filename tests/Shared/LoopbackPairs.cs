using System.Net;
using Polling.Net;

namespace Polling.TestSupport;

/// <summary>Connected loopback pairs for the tests of Polling.Net and its building blocks (one copy, linked into each project).</summary>
internal static class LoopbackPairs
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A connected loopback TCP pair (client from Connect, server from TryAccept), both non-blocking and unregistered:
    /// waits on a Poll of its own, with a deadline, until the listener has the connection and the client is connected.
    /// </summary>
    /// <param name="address">The loopback address to listen on; 127.0.0.1 by default (e.g. <see cref="IPAddress.IPv6Loopback"/>).</param>
    /// <exception cref="System.Net.Sockets.SocketException">The connect failed.</exception>
    public static (TcpStream Client, TcpStream Server) TcpPair(IPAddress? address = null)
    {
        const Token Accepted = (Token)0, Connected = (Token)1;
        using var listener = Polling.Net.TcpListener.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        var client = TcpStream.Connect(listener.LocalEndPoint);
        using var poll = new Poll();
        var events = new Events(4);
        poll.Registry.Register(listener, Accepted, Interest.Readable, Trigger.Level);
        poll.Registry.Register(client, Connected, Interest.Writable, Trigger.Level);
        TcpStream? server = null;
        bool connected = false;
        DateTime end = DateTime.UtcNow + Deadline;
        while (server is null || !connected)
        {
            if (DateTime.UtcNow > end)
            {
                throw new Xunit.Sdk.XunitException($"No connected loopback pair within {Deadline} (accepted: {server is not null}, connected: {connected}).");
            }

            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (ev.Token == Accepted && server is null)
                {
                    _ = listener.TryAccept(out server);
                }
                else if (ev.Token == Connected && !connected)
                {
                    _ = client.RemoteEndPoint; // throws the connect's error
                    connected = true;
                    poll.Registry.Deregister(client);
                }
            }
        }

        return (client, server);
    }
}
