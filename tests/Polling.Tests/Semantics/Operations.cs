namespace Polling.Tests.Semantics;

/// <summary>
/// The kinds of source the properties drive. The "local" end is registered with the Poll; the "peer"
/// end is driven by the test and never registered.
/// </summary>
public enum SourceKind
{
    /// <summary>Polling.Net <c>TcpStream</c> over loopback; peer: the accepted <c>System.Net.Sockets.Socket</c>.</summary>
    TcpStream,

    /// <summary>Polling.Net <c>UnixStream.Pair()</c>; peer: the other end.</summary>
    UnixStream,

    /// <summary>Polling.Net <c>PipeReceiver</c>; peer: its <c>PipeSender</c>.</summary>
    PipeReader,

    /// <summary>Polling.Net <c>PipeSender</c>; peer: its <c>PipeReceiver</c>.</summary>
    PipeWriter,

    /// <summary>Polling.Net <c>UdpSocket</c> on loopback; peer: a second UdpSocket sending to it.</summary>
    Udp,

    /// <summary>Polling.Net <c>TcpListener</c>; peer "writes" are connection attempts.</summary>
    TcpListener,

    /// <summary>Polling.Net <c>UnixListener</c>; peer "writes" are connection attempts.</summary>
    UnixListener,

    /// <summary>An eventfd source that rearms on would-block, as Polling's own sources do.</summary>
    EventFd,

    /// <summary>An eventfd registered as a raw <see cref="SourceFd"/> (cannot report would-block).</summary>
    RawEventFd,

    /// <summary>A <see cref="Polling.Waker"/>; peer "writes" are <c>Wake()</c> calls.</summary>
    Waker,

    /// <summary>A <see cref="ChannelSource{T}"/>; peer writes are messages, the peer's close is <c>Writer.Complete()</c>.</summary>
    Channel,

    /// <summary>A <see cref="TimerSource"/>; a peer write arms it to expire at once and waits until it has.</summary>
    Timer,

    /// <summary>A <see cref="Polling.TimerWheel"/>; a peer write schedules a timeout due at once and waits until the timerfd fired.</summary>
    TimerWheel,
}

/// <summary>
/// One step of a scenario. Every operation names its source by index (<c>s0</c>, <c>s1</c>, …) and
/// prints as a short readable line, so a shrunk counterexample reads like a script.
/// </summary>
public abstract record Op
{
    /// <summary>The source the operation acts on, or -1 for <see cref="Wait"/>.</summary>
    public abstract int Source { get; }

    /// <summary>Returns a copy acting on source <paramref name="source"/> (used when shrinking removes a source).</summary>
    public abstract Op WithSource(int source);

    /// <summary>Formats a token the way a reader wants to see 64-bit edge values.</summary>
    protected static string Hex(ulong token) => $"0x{token:X}";

    /// <summary>Formats a registration.</summary>
    protected static string Describe(Interest interest, Trigger trigger) =>
        $"{interest.ToString().Replace(", ", "|", StringComparison.Ordinal)}, {trigger.ToString().Replace(", ", "|", StringComparison.Ordinal)}";
}

/// <summary><c>Registry.Register</c> (for a waker: <c>new Waker(registry, token)</c>).</summary>
public sealed record Register(int Src, ulong Token, Interest Interest, Trigger Trigger) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Register(s{Src}, token {Hex(Token)}, {Describe(Interest, Trigger)})";
}

/// <summary><c>Registry.Reregister</c>.</summary>
public sealed record Reregister(int Src, ulong Token, Interest Interest, Trigger Trigger) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Reregister(s{Src}, token {Hex(Token)}, {Describe(Interest, Trigger)})";
}

/// <summary><c>Registry.Deregister</c>.</summary>
public sealed record Deregister(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Deregister(s{Src})";
}

/// <summary>The peer sends: bytes on a stream or pipe, one datagram, one connection attempt, an eventfd add, a wake.</summary>
public sealed record PeerWrite(int Src, int Bytes) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerWrite(s{Src}, {Bytes})";
}

/// <summary>The peer reads up to <see cref="Bytes"/> of what the local end wrote (one read).</summary>
public sealed record PeerRead(int Src, int Bytes) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerRead(s{Src}, {Bytes})";
}

/// <summary>The peer reads everything the local end wrote, so the local end has room to write again.</summary>
public sealed record PeerDrain(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerDrain(s{Src})";
}

/// <summary>The peer shuts down its sending side (FIN).</summary>
public sealed record PeerShutdown(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerShutdown(s{Src})";
}

/// <summary>The peer closes its end (a TCP peer with unread data resets the connection, as the kernel does).</summary>
public sealed record PeerClose(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerClose(s{Src})";
}

/// <summary>The TCP peer aborts (SO_LINGER 0, then close: RST).</summary>
public sealed record PeerReset(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"PeerReset(s{Src})";
}

/// <summary>One local read (or accept) of up to <see cref="Bytes"/>: may be partial, may would-block.</summary>
public sealed record Read(int Src, int Bytes) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Read(s{Src}, {Bytes})";
}

/// <summary>Local reads (or accepts) until would-block, end of stream or an error.</summary>
public sealed record Drain(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Drain(s{Src})";
}

/// <summary>Local writes until would-block (the send buffer, pipe or eventfd counter is full).</summary>
public sealed record Fill(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Fill(s{Src})";
}

/// <summary>The local end reads and clears its pending error (<c>TakeError</c>, <c>SO_ERROR</c>): new readiness for the backend.</summary>
public sealed record TakeError(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"TakeError(s{Src})";
}

/// <summary>
/// UDP: the local socket connects to a closed port and sends, so the kernel's ICMP port-unreachable leaves
/// ECONNREFUSED pending (EPOLLERR); then it connects back to its peer. The next receive (or <c>TakeError</c>)
/// returns the error — a <c>Try…</c> that throws, which must leave the source armed (issue 9: poll(2) went deaf).
/// </summary>
public sealed record IcmpError(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"IcmpError(s{Src})";
}

/// <summary>
/// Channel: <see cref="Producers"/> threads each write <see cref="Messages"/> messages while the loop thread drains
/// with <c>TryRead</c> until false, again and again, until every producer has finished — so the consumer's last
/// "empty" races the producers' last writes (issue 9's lost wake-up). Messages written after it must be announced.
/// </summary>
public sealed record ConcurrentPeerWrites(int Src, int Producers, int Messages) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"ConcurrentPeerWrites(s{Src}, {Producers} producers x {Messages})";
}

/// <summary>Disposes the local end (it deregisters itself); every later operation on it is skipped.</summary>
public sealed record DisposeSource(int Src) : Op
{
    public override int Source => Src;

    public override Op WithSource(int source) => this with { Src = source };

    public override string ToString() => $"Dispose(s{Src})";
}

/// <summary><c>Poll.Wait</c> with a timeout of <see cref="Milliseconds"/> (0 = do not block), checked against the model.</summary>
public sealed record Wait(int Milliseconds) : Op
{
    public override int Source => -1;

    public override Op WithSource(int source) => this;

    public override string ToString() => Milliseconds == 0 ? "Wait(Zero)" : $"Wait({Milliseconds} ms)";
}
