using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Net;
using NetTcpListener = Polling.Net.TcpListener;
using NetUnixListener = Polling.Net.UnixListener;

namespace Polling.Tests.Semantics;

/// <summary>What one local read (or accept) returned.</summary>
internal enum ReadStatus
{
    Data,
    EndOfStream,
    WouldBlock,
    Error,
}

/// <summary>The outcome of one local read: the status and how many units (bytes, datagrams, connections, counter value).</summary>
internal readonly record struct ReadOutcome(ReadStatus Status, ulong Count)
{
    public override string ToString() => Status == ReadStatus.Data ? $"{Count}" : Status.ToString();
}

/// <summary>The outcome of a local fill: how much was written and how it stopped.</summary>
internal readonly record struct FillOutcome(long Written, bool WouldBlock, bool Error)
{
    public override string ToString() => $"{Written} written, then {(WouldBlock ? "would-block" : Error ? "error" : "stopped")}";
}

/// <summary>The harness could not bring the kernel into the state the model expects in time (not a property violation).</summary>
internal sealed class HarnessException(string message) : Exception(message);

/// <summary>
/// The real objects behind one source of a scenario: the registered local end (a Polling.Net source,
/// an eventfd source or a waker) and the peer end the test drives. Peer operations on asynchronous
/// transports (TCP, UDP) wait, through <see cref="KernelProbe"/>, until their effect has reached the
/// local end, so the model can say what the next wait must report.
/// </summary>
internal abstract class Subject : IDisposable
{
    protected static readonly TimeSpan SettleDeadline = TimeSpan.FromSeconds(20); // bounds a failure only

    private static readonly byte[] Scratch = new byte[64 * 1024];

    /// <summary>The local end's descriptor, for probes; null once disposed or for a waker without one.</summary>
    public abstract SafeHandle? Handle { get; }

    /// <summary>The local end as a Polling source (null for a waker, which registers in its constructor, and once disposed).</summary>
    public virtual ISource? RegisteredSource => null;

    public static Subject Create(SourceKind kind) => kind switch
    {
        SourceKind.TcpStream => new TcpStreamSubject(),
        SourceKind.UnixStream => new UnixStreamSubject(),
        SourceKind.PipeReader => new PipeReaderSubject(),
        SourceKind.PipeWriter => new PipeWriterSubject(),
        SourceKind.Udp => new UdpSubject(),
        SourceKind.TcpListener => new TcpListenerSubject(),
        SourceKind.UnixListener => new UnixListenerSubject(),
        SourceKind.EventFd => new EventFdSubject(rawFd: false),
        SourceKind.RawEventFd => new EventFdSubject(rawFd: true),
        SourceKind.Waker => new WakerSubject(),
        SourceKind.Channel => new ChannelSubject(),
        SourceKind.Timer => new TimerSubject(),
        SourceKind.TimerWheel => new TimerWheelSubject(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public abstract void Register(Registry registry, Token token, Interest interest, Trigger trigger);

    public abstract void Reregister(Registry registry, Token token, Interest interest, Trigger trigger);

    public abstract void Deregister(Registry registry);

    /// <summary>The peer sends <paramref name="bytes"/>; returns the units that reached the local end.</summary>
    public abstract ulong PeerWrite(int bytes);

    public virtual long PeerRead(int bytes) => throw Unsupported();

    public virtual long PeerDrain() => throw Unsupported();

    public virtual void PeerShutdown() => throw Unsupported();

    public virtual void PeerClose(bool expectReset) => throw Unsupported();

    public virtual void PeerReset() => throw Unsupported();

    public abstract ReadOutcome Read(int max);

    public virtual FillOutcome Fill() => throw Unsupported();

    /// <summary>The local end's <c>TakeError()</c>.</summary>
    public virtual SocketError TakeError() => throw Unsupported();

    /// <summary>Disposes the local end only (the source deregisters itself).</summary>
    public abstract void DisposeLocal();

    public abstract void Dispose();

    protected static Span<byte> Buffer(int bytes) => Scratch.AsSpan(0, Math.Clamp(bytes, 1, Scratch.Length));

    protected static void Settle(Func<bool> condition, string what)
    {
        if (!KernelProbe.Eventually(condition, SettleDeadline))
        {
            throw new HarnessException($"the kernel did not reach '{what}' within {SettleDeadline.TotalSeconds} s");
        }
    }

    /// <summary>
    /// Waits until poll(2) on the local end (asking for <paramref name="events"/>) reports one of
    /// <paramref name="awaited"/>: the kernel state an operation on the peer leads to. After a close this matters
    /// beyond timing: the peer's file is released only when its last descriptor closes, and a process that another
    /// test in this host is starting holds copies of every descriptor from its fork to its exec, so a close in that
    /// window changes nothing yet (a pipe read gave would-block instead of end of stream, once in CI). Only called
    /// while the local end is open: the runner skips every operation after its disposal.
    /// </summary>
    protected void SettleLocal(short events, short awaited, string what)
    {
        SafeHandle handle = Handle!;
        Settle(() => (KernelProbe.Poll(handle, events) & awaited) != 0, what);
    }

    /// <summary>Runs a read, mapping would-block, end of stream and socket/IO errors to a <see cref="ReadOutcome"/>.</summary>
    protected static ReadOutcome Stream(Func<(bool Done, int Count)> read)
    {
        try
        {
            (bool done, int count) = read();
            return !done ? new ReadOutcome(ReadStatus.WouldBlock, 0)
                : count == 0 ? new ReadOutcome(ReadStatus.EndOfStream, 0)
                : new ReadOutcome(ReadStatus.Data, (ulong)count);
        }
        catch (SocketException)
        {
            return new ReadOutcome(ReadStatus.Error, 0);
        }
        catch (IOException)
        {
            return new ReadOutcome(ReadStatus.Error, 0);
        }
    }

    /// <summary>Writes 4 KiB chunks until would-block or an error.</summary>
    protected static FillOutcome FillWith(Func<ReadOnlySpan<byte>, (bool Done, int Count)> write)
    {
        long total = 0;
        try
        {
            while (true)
            {
                (bool done, int count) = write(Scratch.AsSpan(0, 4096));
                if (!done)
                {
                    return new FillOutcome(total, WouldBlock: true, Error: false);
                }

                total += count;
                if (total > 64L * 1024 * 1024)
                {
                    throw new HarnessException("a fill wrote 64 MiB without the buffer filling up");
                }
            }
        }
        catch (SocketException)
        {
            return new FillOutcome(total, WouldBlock: false, Error: true);
        }
        catch (IOException)
        {
            return new FillOutcome(total, WouldBlock: false, Error: true);
        }
    }

    private NotSupportedException Unsupported() => new($"{GetType().Name} does not support this operation (the generator should not produce it)");
}

/// <summary>A Polling.Net <see cref="ISource"/> local end registered through the registry.</summary>
internal abstract class SourceSubject<TSource> : Subject
    where TSource : class, ISource, IDisposable
{
    protected TSource? Local { get; set; }

    public override ISource? RegisteredSource => Local;

    public override void Register(Registry registry, Token token, Interest interest, Trigger trigger) => registry.Register(Local!, token, interest, trigger);

    public override void Reregister(Registry registry, Token token, Interest interest, Trigger trigger) => registry.Reregister(Local!, token, interest, trigger);

    public override void Deregister(Registry registry) => registry.Deregister(Local!);

    public override void DisposeLocal()
    {
        Local?.Dispose();
        Local = null;
    }
}

/// <summary>TCP over loopback: local = Polling.Net TcpStream (connecting side), peer = the accepted System.Net.Sockets.Socket.</summary>
internal sealed class TcpStreamSubject : SourceSubject<TcpStream>
{
    private Socket? _peer;

    public TcpStreamSubject()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.ReceiveBufferSize = 4096;  // inherited by the peer: a small window, so a fill fills quickly
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var local = TcpStream.Connect((IPEndPoint)listener.LocalEndPoint!);
        local.SendBufferSize = 4096;
        Local = local;
        _peer = listener.Accept();
        _peer.Blocking = false;
        Settle(() => (KernelProbe.Poll(local.Handle, KernelProbe.PollOut) & KernelProbe.PollOut) != 0, "connected");
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        int before = KernelProbe.Readable(Local!.Handle);
        int sent = _peer!.Send(Buffer(bytes), SocketFlags.None, out SocketError error);
        if (error != SocketError.Success)
        {
            sent = 0;
        }

        Settle(() => KernelProbe.Readable(Local!.Handle) >= before + sent, $"{sent} more bytes readable");
        return (ulong)sent;
    }

    public override long PeerRead(int bytes)
    {
        int read = _peer!.Receive(Buffer(bytes), SocketFlags.None, out SocketError error);
        return error == SocketError.Success ? read : 0;
    }

    public override long PeerDrain()
    {
        long total = 0;
        Settle(
            () =>
            {
                while (true)
                {
                    int read = _peer!.Receive(Buffer(64 * 1024), SocketFlags.None, out SocketError error);
                    if (error != SocketError.Success || read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                return KernelProbe.Unacknowledged(Local!.Handle) == 0 && _peer!.Available == 0;
            },
            "everything the local end wrote read by the peer");
        SettleLocal(KernelProbe.PollOut, KernelProbe.PollOut, "room to write");
        return total;
    }

    public override void PeerShutdown()
    {
        _peer!.Shutdown(SocketShutdown.Send);
        SettleLocal(KernelProbe.PollRdHup, KernelProbe.PollRdHup, "FIN received");
    }

    public override void PeerClose(bool expectReset)
    {
        _peer!.Dispose();
        _peer = null;
        SettleLocal(KernelProbe.PollRdHup, expectReset ? KernelProbe.PollHup : KernelProbe.PollRdHup, expectReset ? "RST received" : "FIN received");
    }

    public override void PeerReset()
    {
        _peer!.LingerState = new LingerOption(true, 0);
        _peer.Dispose();
        _peer = null;
        SettleLocal(KernelProbe.PollRdHup, KernelProbe.PollHup, "RST received");
    }

    public override ReadOutcome Read(int max) => Stream(() => (Local!.TryRead(Buffer(max), out int n), n));

    public override FillOutcome Fill() => FillWith(data => (Local!.TryWrite(data, out int n), n));

    public override SocketError TakeError() => Local!.TakeError();

    public override void Dispose()
    {
        DisposeLocal();
        _peer?.Dispose();
    }
}

/// <summary>A Unix stream socket pair: local and peer are both Polling.Net UnixStreams (only local is registered).</summary>
internal sealed class UnixStreamSubject : SourceSubject<UnixStream>
{
    private UnixStream? _peer;

    public UnixStreamSubject()
    {
        (UnixStream local, UnixStream peer) = UnixStream.Pair();
        local.SendBufferSize = 4096;
        Local = local;
        _peer = peer;
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes) => _peer!.TryWrite(Buffer(bytes), out int n) ? (ulong)n : 0;

    public override long PeerRead(int bytes) => _peer!.TryRead(Buffer(bytes), out int n) ? n : 0;

    public override long PeerDrain()
    {
        long total = 0;
        while (_peer!.TryRead(Buffer(64 * 1024), out int n) && n > 0)
        {
            total += n;
        }

        return total;
    }

    public override void PeerShutdown() => _peer!.Shutdown(SocketShutdown.Send);

    public override void PeerClose(bool expectReset)
    {
        _peer!.Dispose();
        _peer = null;
        SettleLocal(KernelProbe.PollRdHup, KernelProbe.PollRdHup | KernelProbe.PollHup, "end of stream received");
    }

    public override ReadOutcome Read(int max) => Stream(() => (Local!.TryRead(Buffer(max), out int n), n));

    public override FillOutcome Fill() => FillWith(data => (Local!.TryWrite(data, out int n), n));

    public override SocketError TakeError() => Local!.TakeError();

    public override void Dispose()
    {
        DisposeLocal();
        _peer?.Dispose();
    }
}

/// <summary>The read end of a pipe; the peer is the write end.</summary>
internal sealed class PipeReaderSubject : SourceSubject<PipeReceiver>
{
    private PipeSender? _peer;

    public PipeReaderSubject()
    {
        (PipeSender sender, PipeReceiver receiver) = Pipe.Create();
        Local = receiver;
        _peer = sender;
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes) => _peer!.TryWrite(Buffer(bytes), out int n) ? (ulong)n : 0;

    public override void PeerClose(bool expectReset)
    {
        _peer!.Dispose();
        _peer = null;
        SettleLocal(KernelProbe.PollIn, KernelProbe.PollHup, "no writer left (POLLHUP)");
    }

    public override ReadOutcome Read(int max) => Stream(() => (Local!.TryRead(Buffer(max), out int n), n));

    public override void Dispose()
    {
        DisposeLocal();
        _peer?.Dispose();
    }
}

/// <summary>The write end of a pipe; the peer is the read end.</summary>
internal sealed class PipeWriterSubject : SourceSubject<PipeSender>
{
    private PipeReceiver? _peer;

    public PipeWriterSubject()
    {
        (PipeSender sender, PipeReceiver receiver) = Pipe.Create();
        Local = sender;
        _peer = receiver;
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes) => throw new NotSupportedException("the peer of a pipe's write end cannot write");

    public override long PeerRead(int bytes) => _peer!.TryRead(Buffer(bytes), out int n) ? n : 0;

    public override long PeerDrain()
    {
        long total = 0;
        while (_peer!.TryRead(Buffer(64 * 1024), out int n) && n > 0)
        {
            total += n;
        }

        return total;
    }

    public override void PeerClose(bool expectReset)
    {
        _peer!.Dispose();
        _peer = null;
        SettleLocal(KernelProbe.PollOut, KernelProbe.PollErr, "no reader left (POLLERR)");
    }

    public override ReadOutcome Read(int max) => throw new NotSupportedException("a pipe's write end cannot be read");

    public override FillOutcome Fill() => FillWith(data => (Local!.TryWrite(data, out int n), n));

    public override void Dispose()
    {
        DisposeLocal();
        _peer?.Dispose();
    }
}

/// <summary>UDP on loopback: the peer is a second UdpSocket connected to the local one.</summary>
internal sealed class UdpSubject : SourceSubject<UdpSocket>
{
    private readonly UdpSocket _peer;

    public UdpSubject()
    {
        var local = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Local = local;
        _peer = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _peer.Connect(local.LocalEndPoint);
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        long before = KernelProbe.ReceiveMemory(Local!.Handle);
        if (!_peer.TrySend(Buffer(Math.Min(bytes, 1400)), out _))
        {
            return 0;
        }

        Settle(() => KernelProbe.ReceiveMemory(Local!.Handle) > before, "the datagram queued");
        return 1;
    }

    public override SocketError TakeError() => Local!.TakeError();

    /// <summary>Connect to a closed port, send, wait for the ICMP error to be pending, connect back to the peer.</summary>
    public void IcmpError()
    {
        IPEndPoint closed;
        using (var probe = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            closed = probe.LocalEndPoint;
        }

        Local!.Connect(closed);
        if (!Local.TrySend(Buffer(1), out _))
        {
            throw new HarnessException("a one-byte UDP send would block");
        }

        SettleLocal(KernelProbe.PollIn, KernelProbe.PollErr, "ICMP port unreachable pending");
        Local.Connect(_peer.LocalEndPoint);
    }

    public override ReadOutcome Read(int max)
    {
        ReadOutcome outcome = Stream(() => (Local!.TryReceive(Buffer(max), out int n), n));
        return outcome.Status == ReadStatus.EndOfStream ? new ReadOutcome(ReadStatus.Data, 1) : outcome with { Count = outcome.Status == ReadStatus.Data ? 1UL : 0UL };
    }

    public override void Dispose()
    {
        DisposeLocal();
        _peer.Dispose();
    }
}

/// <summary>A TCP listener; peer writes are connection attempts from System.Net.Sockets clients.</summary>
internal sealed class TcpListenerSubject : SourceSubject<NetTcpListener>
{
    private readonly List<Socket> _clients = [];
    private int _queued;

    public TcpListenerSubject()
    {
        Local = NetTcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _clients.Add(client);
        client.Connect(Local!.LocalEndPoint);
        int expected = ++_queued;
        Settle(() => KernelProbe.AcceptQueue(Local!.Handle) >= expected, $"{expected} connection(s) in the accept queue");
        return 1;
    }

    public override ReadOutcome Read(int max)
    {
        ReadOutcome outcome = Stream(() =>
        {
            bool accepted = Local!.TryAccept(out TcpStream? stream);
            stream?.Dispose();
            return (accepted, 1);
        });
        if (outcome.Status == ReadStatus.Data)
        {
            _queued--;
        }

        return outcome;
    }

    public override void Dispose()
    {
        DisposeLocal();
        foreach (Socket client in _clients)
        {
            client.Dispose();
        }
    }
}

/// <summary>A Unix listener in a temporary directory; peer writes are UnixStream.Connect calls (queued synchronously).</summary>
internal sealed class UnixListenerSubject : SourceSubject<NetUnixListener>
{
    private readonly List<UnixStream> _clients = [];
    private readonly string _path;

    public UnixListenerSubject()
    {
        _path = Path.Combine(Path.GetTempPath(), $"polling-props-{Guid.NewGuid():N}.sock");
        Local = NetUnixListener.Bind(_path);
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        _clients.Add(UnixStream.Connect(_path));
        return 1;
    }

    public override ReadOutcome Read(int max) => Stream(() =>
    {
        bool accepted = Local!.TryAccept(out UnixStream? stream);
        stream?.Dispose();
        return (accepted, 1);
    });

    public override void Dispose()
    {
        DisposeLocal();
        foreach (UnixStream client in _clients)
        {
            client.Dispose();
        }

        File.Delete(_path);
    }
}

/// <summary>An eventfd (rearming source, or raw SourceFd); the peer adds to the counter.</summary>
internal sealed class EventFdSubject(bool rawFd) : Subject
{
    private Registry? _registry;

    public override SafeHandle? Handle => LocalSource?.Handle;

    private EventFdSource? LocalSource { get; set; } = new(rawFd);

    public override void Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        registry.Register(LocalSource!, token, interest, trigger);
        _registry = registry;
    }

    public override void Reregister(Registry registry, Token token, Interest interest, Trigger trigger) => registry.Reregister(LocalSource!, token, interest, trigger);

    public override void Deregister(Registry registry)
    {
        registry.Deregister(LocalSource!);
        _registry = null;
    }

    public override ulong PeerWrite(int bytes) => LocalSource!.PeerAdd((ulong)bytes) ? (ulong)bytes : 0;

    public override ReadOutcome Read(int max) => LocalSource!.TryRead(out ulong value)
        ? new ReadOutcome(ReadStatus.Data, value)
        : new ReadOutcome(ReadStatus.WouldBlock, 0);

    /// <summary>Adds up to the maximum counter value, then once more (which would block).</summary>
    public ulong FillCounter(ulong current)
    {
        ulong room = EventFdSource.MaxCounter - current;
        if (room > 0 && !LocalSource!.TryWrite(room))
        {
            throw new HarnessException($"the eventfd refused {room} although the model counts {current}");
        }

        if (LocalSource!.TryWrite(1))
        {
            throw new HarnessException("the eventfd accepted a write past its maximum");
        }

        return room;
    }

    public override void DisposeLocal()
    {
        // A raw descriptor must be deregistered before it is closed (SourceFd's documented rule).
        if (rawFd && _registry is { } registry && LocalSource is not null && !registry.IsDisposed)
        {
            registry.Deregister(LocalSource);
        }

        _registry = null;
        LocalSource?.Dispose();
        LocalSource = null;
    }

    public override void Dispose() => DisposeLocal();
}

/// <summary>A waker: registration is construction, a peer write is Wake(), disposal ends it.</summary>
internal sealed class WakerSubject : Subject
{
    private Waker? _waker;

    public override SafeHandle? Handle => null;

    public override void Register(Registry registry, Token token, Interest interest, Trigger trigger) => _waker = new Waker(registry, token);

    public override void Reregister(Registry registry, Token token, Interest interest, Trigger trigger) => throw new NotSupportedException("a waker cannot be reregistered");

    public override void Deregister(Registry registry) => throw new NotSupportedException("a waker is deregistered by disposing it");

    public override ulong PeerWrite(int bytes)
    {
        _waker!.Wake();
        return 1;
    }

    public override ReadOutcome Read(int max) => throw new NotSupportedException("a waker is not read");

    public override void DisposeLocal()
    {
        _waker?.Dispose();
        _waker = null;
    }

    public override void Dispose() => DisposeLocal();
}
