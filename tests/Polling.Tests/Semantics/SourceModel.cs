namespace Polling.Tests.Semantics;

/// <summary>Three-valued truth: the model knows a bit is set, knows it is clear, or cannot know (asynchronous kernel work).</summary>
internal enum Tri
{
    No,
    Maybe,
    Yes,
}

/// <summary>Which directions an operation may have woken in the kernel (what an epoll edge can fire on).</summary>
[Flags]
internal enum Fresh
{
    None = 0,

    /// <summary>A keyed EPOLLIN wakeup: data, a connection, an eventfd add.</summary>
    Read = 1,

    /// <summary>A keyed EPOLLOUT wakeup: room to write came back (or may have).</summary>
    Write = 2,

    /// <summary>An un-keyed state change (shutdown, close, reset): wakes every registration of the file.</summary>
    All = Read | Write,
}

/// <summary>The readiness bits the kernel reports for a descriptor, each as a <see cref="Tri"/>.</summary>
internal readonly record struct Mask(Tri In, Tri Out, Tri RdHup, Tri Hup, Tri Err)
{
    /// <summary>Readable in the wide sense: data, end of stream, hang-up or error.</summary>
    public Tri ReadReady => Or(In, Or(Hup, Err));

    /// <summary>Writable in the wide sense: room, hang-up or error.</summary>
    public Tri WriteReady => Or(Out, Or(Hup, Err));

    public static Tri Or(Tri a, Tri b) => a == Tri.Yes || b == Tri.Yes ? Tri.Yes : a == Tri.Maybe || b == Tri.Maybe ? Tri.Maybe : Tri.No;

    public static Tri Of(bool value) => value ? Tri.Yes : Tri.No;

    public override string ToString() =>
        $"in={In} out={Out} rdhup={RdHup} hup={Hup} err={Err}";
}

/// <summary>What the model knows about one registration of a source.</summary>
internal sealed class RegistrationModel
{
    public RegistrationModel(ulong token, Interest interest, Trigger trigger, string why)
    {
        Token = token;
        Interest = interest;
        Trigger = trigger;
        ArmedRead = ArmedWrite = true;
        Fresh = Fresh.All;
        Why = why;
    }

    public ulong Token { get; }

    public Interest Interest { get; }

    public Trigger Trigger { get; }

    /// <summary>A serial number per Register/Reregister, so that the differential property can tell registrations apart.</summary>
    public int Generation { get; init; }

    public bool IsEdge => (Trigger & Trigger.Edge) != 0;

    public bool IsOneshot => (Trigger & Trigger.Oneshot) != 0;

    /// <summary>Oneshot: the one event came; silence until reregistered.</summary>
    public bool Fired { get; set; }

    /// <summary>
    /// Edge: the direction was (re)registered, or an I/O call in it returned would-block, and no event has
    /// reported it since. New readiness in an armed direction must produce an event (no lost wake-up).
    /// </summary>
    public bool ArmedRead { get; set; }

    /// <inheritdoc cref="ArmedRead"/>
    public bool ArmedWrite { get; set; }

    /// <summary>
    /// Edge: the wakeups that happened since this registration's last event. With none, an edge event is
    /// a repeat without new readiness, which the contract forbids.
    /// </summary>
    public Fresh Fresh { get; set; }

    /// <summary>
    /// Edge: a <c>Try…</c> threw or the pending error was taken since the last event. The backend was told:
    /// readiness that arrives from now on must be reported (as after a would-block), and on poll(2), which
    /// rearms then, one event for readiness that was already there is allowed (a spurious one).
    /// </summary>
    public bool RearmedByFailure { get; set; }

    /// <summary>Why the registration exists ("Register" or "Reregister"), to name the rule a lost event breaks.</summary>
    public string Why { get; set; }

    public bool Wants(Interest interest) => (Interest & interest) != 0;

    public override string ToString() => $"token 0x{Token:X} {Interest} {Trigger}";
}

/// <summary>
/// The pure model of one source: the kernel-side state that decides readiness (buffered data, peer
/// closed, room to write, pending error) plus the registration. It never touches the kernel; the runner
/// feeds it the outcome of every real operation and asks it what a wait must, may and must not report.
/// </summary>
internal sealed class SourceModel
{
    public SourceModel(SourceKind kind)
    {
        Kind = kind;
    }

    public SourceKind Kind { get; }

    /// <summary>Readable units: bytes (streams, pipes), datagrams (UDP), pending connections (listeners), the eventfd counter.</summary>
    public ulong Avail { get; set; }

    /// <summary>The peer sent FIN / closed its writing end: reads end with end-of-stream after <see cref="Avail"/>.</summary>
    public bool PeerWriteShut { get; set; }

    /// <summary>The peer end is closed.</summary>
    public bool PeerClosed { get; set; }

    /// <summary>TCP: the connection was reset (RST received).</summary>
    public bool Reset { get; set; }

    /// <summary>TCP: the reset came after a FIN (CLOSE_WAIT), so reads return end-of-stream and the error stays pending.</summary>
    public bool FinBeforeReset { get; set; }

    /// <summary>A socket error is pending (EPOLLERR), consumed by the read that returns it.</summary>
    public bool ErrPending { get; set; }

    /// <summary>Room to write.</summary>
    public Tri Room { get; set; } = Tri.Yes;

    /// <summary>TCP after a fill: ACKs and window updates may bring room back at any time, and wake an edge.</summary>
    public bool AsyncRoom { get; set; }

    /// <summary>Bytes the local end wrote that the peer has not read.</summary>
    public long PeerAvail { get; set; }

    /// <summary>
    /// Channel and timer wheel: the descriptor the source registers (eventfd, timerfd) holds an unread wake.
    /// Set by a peer write, cleared only by a read that would block — so a read that takes the last message
    /// leaves the source ready until the loop has seen it empty (a completed channel stays ready for good).
    /// </summary>
    public bool Signalled { get; set; }

    /// <summary>
    /// Channel after producers raced the loop: the queue is empty, but a producer's wake may have landed after the
    /// loop's last reset, so the eventfd may hold a stale wake (an allowed spurious event) until the next read finds
    /// the channel empty again.
    /// </summary>
    public bool MaybeSignalled { get; set; }

    /// <summary>Disposed: silent forever.</summary>
    public bool Disposed { get; set; }

    /// <summary>The current registration, or null.</summary>
    public RegistrationModel? Registration { get; set; }

    /// <summary>Whether a peer operation's effect reaches the local end asynchronously (loopback networking).</summary>
    public bool IsAsynchronous => Kind is SourceKind.TcpStream or SourceKind.TcpListener or SourceKind.Udp or SourceKind.Timer or SourceKind.TimerWheel;

    /// <summary>Whether the source reports would-block to the backend (everything but a raw SourceFd).</summary>
    public bool RearmsOnWouldBlock => Kind != SourceKind.RawEventFd;

    /// <summary>The readiness bits the kernel reports now.</summary>
    public Mask Mask => Kind switch
    {
        SourceKind.TcpStream => new Mask(
            In: Mask.Of(Avail > 0 || PeerWriteShut || Reset),
            Out: Reset ? Tri.Yes : Room,
            RdHup: Mask.Of(PeerWriteShut || Reset),
            Hup: Mask.Of(Reset),
            Err: Mask.Of(ErrPending)),
        SourceKind.UnixStream => new Mask(
            In: Mask.Of(Avail > 0 || PeerWriteShut),
            Out: PeerClosed ? Tri.Yes : Room,
            RdHup: Mask.Of(PeerWriteShut),
            Hup: Mask.Of(PeerClosed),
            Err: Mask.Of(ErrPending)),
        SourceKind.PipeReader => new Mask(Mask.Of(Avail > 0), Tri.No, Tri.No, Mask.Of(PeerClosed), Tri.No),
        SourceKind.PipeWriter => new Mask(Tri.No, Room, Tri.No, Tri.No, Mask.Of(PeerClosed)),
        SourceKind.Udp => new Mask(Mask.Of(Avail > 0), Tri.Yes, Tri.No, Tri.No, Mask.Of(ErrPending)),
        SourceKind.TcpListener or SourceKind.UnixListener => new Mask(Mask.Of(Avail > 0), Tri.No, Tri.No, Tri.No, Tri.No),
        SourceKind.EventFd or SourceKind.RawEventFd => new Mask(Mask.Of(Avail > 0), Room, Tri.No, Tri.No, Tri.No),
        SourceKind.Waker or SourceKind.Timer => new Mask(Mask.Of(Avail > 0), Tri.No, Tri.No, Tri.No, Tri.No),
        SourceKind.Channel or SourceKind.TimerWheel => new Mask(Signalled ? Tri.Yes : MaybeSignalled ? Tri.Maybe : Tri.No, Tri.No, Tri.No, Tri.No, Tri.No),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
    };

    /// <summary>Records a wakeup on the current registration (a no-op when unregistered).</summary>
    public void Wake(Fresh fresh)
    {
        if (Registration is { } registration)
        {
            registration.Fresh |= fresh;
            if (registration.RearmedByFailure)
            {
                registration.ArmedRead |= (fresh & Fresh.Read) != 0;
                registration.ArmedWrite |= (fresh & Fresh.Write) != 0;
            }
        }
    }

    /// <summary>An I/O call in <paramref name="interest"/>'s direction returned would-block.</summary>
    public void WouldBlock(Interest interest)
    {
        if (Registration is { } registration)
        {
            if (interest == Interest.Readable)
            {
                registration.ArmedRead = true;
            }
            else
            {
                registration.ArmedWrite = true;
            }
        }
    }

    /// <summary>A <c>Try…</c> threw, or the pending error was taken: new readiness in any direction must be reported.</summary>
    public void Failed()
    {
        if (Registration is { } registration)
        {
            registration.RearmedByFailure = true;
        }
    }

    public override string ToString() =>
        $"{Kind}: avail={Avail}{(Signalled ? " signalled" : MaybeSignalled ? " maybe-signalled" : string.Empty)} peerWriteShut={PeerWriteShut} peerClosed={PeerClosed} reset={Reset} err={ErrPending} room={Room}{(AsyncRoom ? "(async)" : string.Empty)} peerAvail={PeerAvail}{(Disposed ? " disposed" : string.Empty)}";
}
