using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HttpPing.Tests;

/// <summary>A blocking test client that speaks raw bytes and reads HTTP responses back, every read with a deadline.</summary>
internal sealed class RawClient : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    public RawClient(IPEndPoint server)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
        _socket.SendTimeout = (int)Deadline.TotalMilliseconds;
        _socket.Connect(server);
    }

    public Socket Socket => _socket;

    public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

    public void Send(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[_socket.Send(bytes)..];
        }
    }

    /// <summary>Reads one response: status, headers (lower-cased names) and body (none when <paramref name="head"/>).</summary>
    public Response Read(bool head = false)
    {
        int end;
        while ((end = IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!Fill())
            {
                throw new EndOfStreamException($"the connection closed after {_pending.Count} bytes of a response head");
            }
        }

        string text = Encoding.Latin1.GetString(_pending.GetRange(0, end).ToArray());
        _pending.RemoveRange(0, end + 4);
        string[] lines = text.Split("\r\n");
        string[] statusLine = lines[0].Split(' ', 3);
        Assert.Equal("HTTP/1.1", statusLine[0]);
        var headers = new Dictionary<string, string>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            headers[line[..colon].ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }

        int status = int.Parse(statusLine[1]);
        int length = head || status < 200 ? 0 : int.Parse(headers["content-length"]);
        while (_pending.Count < length)
        {
            if (!Fill())
            {
                throw new EndOfStreamException("the connection closed inside a response body");
            }
        }

        string body = Encoding.Latin1.GetString(_pending.GetRange(0, length).ToArray());
        _pending.RemoveRange(0, length);
        return new Response(status, headers, body);
    }

    /// <summary>True if the server closed the connection (end of stream or reset) before the deadline, with nothing more sent.</summary>
    public bool ReadsEndOfStream()
    {
        try
        {
            return _pending.Count == 0 && !Fill();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return _pending.Count == 0;
        }
    }

    /// <summary>Reads until the server closes (end of stream or reset) and returns how many bytes came; throws at the deadline.</summary>
    public int DrainToEnd()
    {
        try
        {
            while (Fill())
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        int count = _pending.Count;
        _pending.Clear();
        return count;
    }

    public void Dispose() => _socket.Dispose();

    private bool Fill()
    {
        var buffer = new byte[16 * 1024];
        int read = _socket.Receive(buffer); // throws SocketException(TimedOut) at the deadline
        _pending.AddRange(buffer.AsSpan(0, read));
        return read > 0;
    }

    private int IndexOf(ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= _pending.Count; i++)
        {
            int j = 0;
            while (j < needle.Length && _pending[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }
}

internal sealed record Response(int Status, Dictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <summary>An <see cref="HttpServer"/> on 127.0.0.1 (free port) served by a thread of its own.</summary>
internal sealed class RunningServer : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly Thread _thread;
    private Exception? _failure;

    public RunningServer(HttpServerOptions? options = null)
    {
        Server = new HttpServer(new IPEndPoint(IPAddress.Loopback, 0), options);
        _thread = new Thread(() =>
        {
            try
            {
                Server.Run(_cancel.Token);
            }
            catch (Exception e)
            {
                _failure = e;
            }
        }) { Name = "http server", IsBackground = true };
        _thread.Start();
    }

    public HttpServer Server { get; }

    public IPEndPoint EndPoint => Server.LocalEndPoint;

    public RawClient Connect() => new(EndPoint);

    public void Dispose()
    {
        _cancel.Cancel();
        bool stopped = _thread.Join(RawClient.Deadline);
        Server.Dispose();
        _cancel.Dispose();
        Assert.True(stopped, "the server loop stops when cancelled");
        Assert.Null(_failure); // nothing a client sent made the loop throw
    }
}
