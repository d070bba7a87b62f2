using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chat.Tests;

/// <summary>A raw TCP client of the line protocol, blocking, with a 10 s deadline on every read.</summary>
internal sealed class LineClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly List<byte> _pending = [];

    public LineClient(IPEndPoint endpoint, int? receiveBufferSize = null)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            _socket.ReceiveBufferSize = size; // before connecting, so the window is small from the start
        }

        _socket.Connect(endpoint);
    }

    public Socket Socket => _socket;

    public void Send(string line) => _socket.Send(Encoding.UTF8.GetBytes(line + "\n"));

    public void SendRaw(byte[] bytes) => _socket.Send(bytes);

    public string ReadLine()
    {
        while (true)
        {
            int newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_pending.GetRange(0, newline).ToArray());
                _pending.RemoveRange(0, newline + 1);
                return line;
            }

            int read = _socket.Receive(_buffer);
            if (read == 0)
            {
                throw new IOException("the server closed the connection");
            }

            _pending.AddRange(_buffer.AsSpan(0, read));
        }
    }

    /// <summary>Reads lines until one satisfies <paramref name="wanted"/>; returns the ones before it too.</summary>
    public List<string> ReadUntil(Func<string, bool> wanted)
    {
        var lines = new List<string>();
        while (true)
        {
            string line = ReadLine();
            lines.Add(line);
            if (wanted(line))
            {
                return lines;
            }
        }
    }

    public bool ReadsEndOfStream()
    {
        if (_pending.Count > 0)
        {
            return false;
        }

        return _socket.Receive(_buffer) == 0;
    }

    public void Dispose() => _socket.Dispose();
}
