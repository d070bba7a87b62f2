using System.Net;
using System.Net.Sockets;
using MiniRedis.Server;

namespace MiniRedis.Tests;

/// <summary>A MiniRedis server on a free port, served by its own thread until disposed.</summary>
internal sealed class RunningServer : IDisposable
{
    private readonly Thread _thread;
    private Exception? _failure;

    public RunningServer(MiniRedisOptions? options = null)
    {
        Server = new MiniRedisServer(new IPEndPoint(IPAddress.Loopback, 0), options);
        _thread = new Thread(() =>
        {
            try
            {
                Server.Run();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        })
        { IsBackground = true, Name = "MiniRedis test server" };
        _thread.Start();
    }

    public MiniRedisServer Server { get; }

    public int Port => Server.LocalEndPoint.Port;

    public Socket Connect()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(Server.LocalEndPoint);
        return socket;
    }

    public void Dispose()
    {
        Server.Stop();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(10)), "the server loop did not stop within 10 s");
        Server.Dispose();
        Assert.Null(_failure);
        Assert.Equal(0, Server.InternalErrors);
    }
}

/// <summary>Blocking client helpers with deadlines (the socket's 10 s receive timeout).</summary>
internal static class Client
{
    public static void Send(this Socket socket, string text) => socket.Send(Resp.Bytes(text));

    /// <summary>Receives exactly <paramref name="length"/> bytes.</summary>
    public static string Receive(this Socket socket, int length)
    {
        var buffer = new byte[length];
        int received = 0;
        while (received < length)
        {
            int n = socket.Receive(buffer, received, length - received, SocketFlags.None);
            Assert.True(n > 0, $"closed after {received} of {length} bytes: '{Resp.Text(buffer.AsSpan(0, received))}'");
            received += n;
        }

        return Resp.Text(buffer);
    }

    /// <summary>Sends <paramref name="request"/> and receives a reply as long as <paramref name="expected"/>; returns it.</summary>
    public static string Exchange(this Socket socket, string request, string expected)
    {
        socket.Send(request);
        return socket.Receive(Resp.Bytes(expected).Length);
    }

    /// <summary>Reads until the peer closes; returns what came before the close.</summary>
    public static string ReceiveToEnd(this Socket socket)
    {
        var all = new List<byte>();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, n));
        }

        return Resp.Text(all.ToArray());
    }
}
