// polling-min: c-epoll-min's design written on Polling's public API, as a measure of the library's own cost.
// One Poll, edge-triggered, Readable | Writable registered once (as c-epoll registers EPOLLIN | EPOLLOUT), one
// 64 KiB read buffer; per event: send what waits, then read and write each chunk straight back, stopping at a
// short read (TcpStream.TryRead's drained) or when a send would block (the rest waits for Writable).
// What TcpEcho adds on top — AcceptLoop's descriptor-exhaustion handling, ConnectionTable's generations,
// OutputQueue's pooled chunks and high-water mark, IdleTimeouts, graceful shutdown — is left out, so the
// difference between the two is the price of those building blocks (README, Performance).
//
// usage: polling-min PORT   (listens on 127.0.0.1:PORT, runs until killed)
using System.Net;
using System.Net.Sockets;
using Polling;
using Polling.Net;
using TcpListener = Polling.Net.TcpListener;

const Token ListenerToken = (Token)0;
using var poll = new Poll();
using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, int.Parse(args[0])), new TcpListenerOptions { Backlog = 4096 });
poll.Registry.Register(listener, ListenerToken, Interest.Readable, Trigger.Edge);
Console.WriteLine($"listening on {listener.LocalEndPoint}");

var connections = new List<Connection?> { null }; // the token is the index; slot 0 is the listener's
var free = new Stack<int>();
var freed = new List<int>(); // slots closed in this batch: reused only after it, so a late event finds null
var events = new Events(1024);
byte[] buffer = new byte[64 * 1024];
while (true)
{
    poll.Wait(events);
    foreach (Event ev in events)
    {
        if (ev.Token == ListenerToken)
        {
            Accept();
        }
        else if (connections[(int)(ulong)ev.Token] is { } connection)
        {
            bool open;
            try
            {
                open = connection.Serve(buffer);
            }
            catch (SocketException)
            {
                open = false; // reset by the peer, or similar
            }

            if (!open)
            {
                Close((int)(ulong)ev.Token);
            }
        }
    }

    foreach (int slot in freed)
    {
        free.Push(slot);
    }

    freed.Clear();
}

void Accept()
{
    try
    {
        while (listener.TryAccept(out TcpStream? stream))
        {
            int slot = free.Count > 0 ? free.Pop() : connections.Count;
            if (slot == connections.Count)
            {
                connections.Add(null);
            }

            connections[slot] = new Connection(stream);
            stream.NoDelay = true;
            poll.Registry.Register(stream, (Token)(ulong)slot, Interest.Readable | Interest.Writable, Trigger.Edge);
        }
    }
    catch (SocketException e)
    {
        Console.Error.WriteLine(e.Message); // out of descriptors, say: the next connection's edge retries
    }
}

void Close(int slot)
{
    connections[slot]!.Stream.Dispose();
    connections[slot] = null;
    freed.Add(slot);
}

internal sealed class Connection(TcpStream stream)
{
    private byte[]? _pending; // what a send that would block left over (rare: a client that does not read)
    private int _pendingOffset;
    private int _pendingLength;

    public TcpStream Stream { get; } = stream;

    /// <summary>Sends what waits, then echoes until a short read; false once the peer has closed.</summary>
    public bool Serve(byte[] buffer)
    {
        if (_pending is not null)
        {
            while (_pendingOffset < _pendingLength)
            {
                if (!Stream.TryWrite(_pending.AsSpan(_pendingOffset, _pendingLength - _pendingOffset), out int sent))
                {
                    return true; // still full: wait for Writable
                }

                _pendingOffset += sent;
            }

            _pending = null;
        }

        while (Stream.TryRead(buffer, out int read, out bool drained))
        {
            if (read == 0)
            {
                return false;
            }

            int written = 0;
            while (written < read && Stream.TryWrite(buffer.AsSpan(written, read - written), out int sent))
            {
                written += sent;
            }

            if (written < read)
            {
                _pending = buffer.AsSpan(written, read - written).ToArray();
                _pendingOffset = 0;
                _pendingLength = read - written;
                return true; // blocked: stop reading until Writable
            }

            if (drained)
            {
                return true;
            }
        }

        return true;
    }
}
