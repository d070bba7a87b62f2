using System.Net;
using System.Net.Sockets;

namespace Polling.TestSupport;

/// <summary>
/// Blocking loopback clients for the child-process exhaustion tests: every call has a 10 s timeout, and a shed
/// connection (closed or reset by the server) reads as what arrived before it, not as an exception.
/// </summary>
internal static class BlockingClient
{
    public static Socket Connect(EndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(endPoint);
        return socket;
    }

    /// <summary>Receives <paramref name="length"/> bytes, or what came before the peer closed or reset (none when shed).</summary>
    public static ReadOnlySpan<byte> ReceiveOrClosed(Socket socket, int length)
    {
        var buffer = new byte[length];
        int received = 0;
        try
        {
            while (received < length)
            {
                int n = socket.Receive(buffer, received, length - received, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                received += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        return buffer.AsSpan(0, received);
    }

    /// <summary>Everything up to the peer's orderly close; a reset or a 10 s silence throws.</summary>
    public static byte[] ReceiveUntilClosed(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[256];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            received.AddRange(buffer.AsSpan(0, n));
        }

        return received.ToArray();
    }
}
