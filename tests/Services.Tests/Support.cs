using System.Net;
using System.Net.Sockets;
using System.Text;
using Polling.Services;

namespace Services.Tests;

internal static class Drive
{
    /// <summary>Runs <paramref name="loop"/> on this thread until <paramref name="done"/> holds; fails at the deadline.</summary>
    public static void Until(ServiceLoop loop, Func<bool> done, double seconds = 10)
    {
        // This thread now is the loop thread: like one, it has no synchronization context that would move
        // continuations of loop-completed tasks elsewhere (xunit installs one).
        SynchronizationContext.SetSynchronizationContext(null);
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not reached within {seconds} s");
            }

            loop.RunOnce(TimeSpan.FromMilliseconds(20));
        }
    }

    public static T Result<T>(ServiceLoop loop, ValueTask<T> task)
    {
        Task<T> t = task.AsTask();
        Until(loop, () => t.IsCompleted);
        return t.GetAwaiter().GetResult();
    }
}

/// <summary>The whole demo (<see cref="ServicesDemo.ServicesApp"/> on a free port), its front loop on a thread of its own.</summary>
internal sealed class RunningApp : IDisposable
{
    private readonly Thread _front;

    public RunningApp()
    {
        _front = new Thread(App.Run) { IsBackground = true, Name = "front loop" };
        _front.Start();
    }

    public ServicesDemo.ServicesApp App { get; } = new(0);

    public void Dispose()
    {
        App.Stop();
        _front.Join();
        App.Dispose();
    }
}

/// <summary>A loop run on its own thread; build servers on it before <see cref="Start"/>.</summary>
internal sealed class LoopThread : IDisposable
{
    private readonly Thread _thread;

    public LoopThread()
    {
        _thread = new Thread(() => Loop.Run()) { IsBackground = true, Name = "test loop" };
    }

    public ServiceLoop Loop { get; } = new();

    private readonly List<IDisposable> _owned = [];

    /// <summary>Disposes <paramref name="item"/> after the loop thread has stopped (servers and clients belong to their loop).</summary>
    public T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public LoopThread Start()
    {
        _thread.Start();
        return this;
    }

    public void Dispose()
    {
        Loop.Stop();
        if (_thread.IsAlive && !_thread.Join(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("the loop thread did not stop");
        }

        foreach (IDisposable item in Enumerable.Reverse(_owned))
        {
            item.Dispose();
        }

        _owned.Clear();
        Loop.Dispose();
    }
}

/// <summary>A blocking HTTP/1.1 client over a raw socket, with a receive deadline.</summary>
internal sealed class RawHttp : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, NoDelay = true };
    private readonly List<byte> _received = [];
    private readonly byte[] _buffer = new byte[64 * 1024];

    public RawHttp(IPEndPoint endpoint) => _socket.Connect(endpoint);

    public Socket Socket => _socket;

    public void Send(string text) => _socket.Send(Encoding.ASCII.GetBytes(text));

    public static string Get(string path, string? token = null) =>
        $"GET {path} HTTP/1.1\r\nHost: t\r\n{(token is null ? string.Empty : $"Authorization: Bearer {token}\r\n")}\r\n";

    public (int Status, string Headers, string Body) Read()
    {
        while (true)
        {
            string text = Encoding.UTF8.GetString(_received.ToArray());
            int headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0)
            {
                string head = text[..headEnd];
                int lengthAt = head.IndexOf("Content-Length: ", StringComparison.Ordinal);
                int length = int.Parse(head[(lengthAt + 16)..].Split("\r\n")[0]);
                if (text.Length >= headEnd + 4 + length)
                {
                    _received.RemoveRange(0, Encoding.UTF8.GetByteCount(text[..(headEnd + 4 + length)]));
                    return (int.Parse(head[9..12]), head, text.Substring(headEnd + 4, length));
                }
            }

            int read = _socket.Receive(_buffer);
            if (read == 0)
            {
                throw new IOException($"connection closed; received so far: '{text}'");
            }

            _received.AddRange(_buffer.AsSpan(0, read));
        }
    }

    /// <summary>True once the server has closed the connection (reads what is left first).</summary>
    public bool ReadsEndOfStream()
    {
        int read = _socket.Receive(_buffer);
        return read == 0;
    }

    public void Dispose() => _socket.Dispose();
}
