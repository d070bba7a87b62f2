using System.Text;

namespace Polling.Tests.Semantics;

/// <summary>The rule of docs/design.md's "Readiness" rules (or of the harness) that a run broke.</summary>
public enum Rule
{
    /// <summary>Edge: new readiness in a direction that was drained (or just registered) produced no event.</summary>
    LostEdgeEvent,

    /// <summary>Level: a ready source was not reported by a wait.</summary>
    LevelNotRepeated,

    /// <summary>Oneshot: a ready source that had not fired yet was not reported.</summary>
    LostOneshotEvent,

    /// <summary>Reregister: a source ready at reregistration was not reported by the next wait.</summary>
    ReregisterNotEffective,

    /// <summary>Waker: a wake was not reported by the next wait.</summary>
    LostWake,

    /// <summary>Edge: an event came although nothing new happened since the last event.</summary>
    EdgeRepeat,

    /// <summary>Oneshot: a second event came before the source was reregistered.</summary>
    OneshotRepeat,

    /// <summary>An event carried a token no live registration has (deregistered, disposed, or corrupted).</summary>
    SilentSourceReported,

    /// <summary>An event's flags (readable, writable, read/write closed, error) disagree with the source's state.</summary>
    FlagMismatch,

    /// <summary>Not a library failure: the kernel's answer to an I/O call contradicts the model (the model is wrong).</summary>
    ModelMismatch,

    /// <summary>Not a library failure: the harness could not bring the kernel to the expected state in time.</summary>
    Harness,
}

/// <summary>A broken rule, with an explanation and the trace of what ran.</summary>
public sealed record Violation(Rule Rule, string Detail, string Trace)
{
    public override string ToString() => $"{Rule}: {Detail}\nTrace (what ran, with outcomes and events):\n{Trace}";
}

/// <summary>What one wait observed, for the differential property: per token, the union of the flags of its events.</summary>
public sealed record WaitRecord(int OpIndex, Dictionary<ulong, uint> Flags, Dictionary<ulong, TokenInfo> Tokens);

/// <summary>What the differential property needs to know about a token at a wait.</summary>
public readonly record struct TokenInfo(SourceKind Kind, Trigger Trigger, bool WriteUncertain, int Generation, bool RearmedByFailure = false);

/// <summary>
/// Runs one <see cref="Scenario"/> against a real <see cref="Poll"/> and the model side by side. Every
/// operation is applied to the real source and its outcome fed to the model; every <see cref="Wait"/>
/// is checked against what the model says the wait must report (no lost event), may report, and must
/// not report (no repeat, silence after oneshot/deregistration, exact flags).
/// </summary>
/// <remarks>
/// <para><b>Where the model allows events it does not require</b> (docs/design.md allows spurious events
/// in general; these are the only places the model lets them through):</para>
/// <list type="number">
/// <item><b>Edge, piggyback:</b> an edge event triggered by new readiness in one direction may also carry
/// another direction that is ready but not newly so — epoll reports the whole ready mask of a file when
/// any wakeup fires.</item>
/// <item><b>Edge, without a drain:</b> new readiness in a direction that was reported before and not
/// drained since (no would-block) may or may not produce an event: epoll fires on every arrival, the
/// poll(2) emulation only after a would-block rearmed the direction. The contract promises an event
/// only after a drain.</item>
/// <item><b>Unkeyed wakeups:</b> a peer shutdown, close or reset wakes every registration of the file
/// whatever its interest, so a Writable-only edge registration may get a Writable event then.</item>
/// <item><b>Write-space wakeups:</b> when the peer reads, the kernel may wake the writer (Unix sockets on
/// every freed buffer while writable, pipes when a full pipe gets room), so a writable edge event may
/// follow a peer read even if the local end never filled its buffer.</item>
/// <item><b>TCP write room after a fill is asynchronous:</b> ACKs and window updates arrive on the
/// kernel's schedule, so between a fill and the peer having read everything, writability is unknown:
/// writable events (and the writable flag) are allowed, not required.</item>
/// <item><b>Reregister</b> re-evaluates readiness: the next wait may report (and, if ready, must report)
/// readiness that was reported before.</item>
/// <item><b>A <see cref="SourceFd"/> under Edge on the poll(2) backend is level-triggered</b>
/// (documented on <see cref="PollBackend"/>): it may repeat while ready.</item>
/// </list>
/// <para>Everything else is forbidden: an edge event with no wakeup since the last one, a second oneshot
/// event, any event for a deregistered or disposed source, any flag the source's state cannot have,
/// and a missing flag the state must show.</para>
/// </remarks>
internal sealed class ScenarioRunner
{
    private const uint In = 0x001;
    private const uint Pri = 0x002;
    private const uint Out = 0x004;
    private const uint Err = 0x008;
    private const uint Hup = 0x010;
    private const uint RdHup = 0x2000;
    private const int StreamCap = 16 * 1024;

    private static readonly TimeSpan AsyncDeadline = TimeSpan.FromSeconds(20); // bounds a failure only: a loaded CI machine may deliver late

    private readonly Scenario _scenario;
    private readonly PollBackend _backend;
    private readonly StringBuilder _trace = new();
    private readonly SourceModel[] _models;
    private readonly Subject?[] _subjects;
    private readonly Dictionary<ulong, string> _retired = new();
    private readonly List<WaitRecord>? _records;
    private Poll? _poll;
    private Events? _events;
    private int _generation;

    private ScenarioRunner(Scenario scenario, PollBackend backend, List<WaitRecord>? records)
    {
        _scenario = scenario;
        _backend = backend;
        _records = records;
        _models = [.. scenario.Sources.Select(kind => new SourceModel(kind))];
        _subjects = new Subject?[scenario.Sources.Length];
    }

    /// <summary>The trace of the last run on this thread (for diagnosing a passing run).</summary>
    [ThreadStatic]
    private static string? t_lastTrace;

    public static string? LastTrace => t_lastTrace;

    /// <summary>Runs <paramref name="scenario"/> on <paramref name="backend"/>; null when every rule held.</summary>
    public static Violation? Run(Scenario scenario, PollBackend backend, List<WaitRecord>? records = null)
    {
        var runner = new ScenarioRunner(scenario, backend, records);
        Violation? violation = runner.Run();
        t_lastTrace = runner._trace.ToString();
        return violation;
    }

    private Violation? Run()
    {
        try
        {
            _poll = new Poll(_backend);
            _events = new Events(_scenario.Capacity);
            for (int i = 0; i < _subjects.Length; i++)
            {
                _subjects[i] = Subject.Create(_scenario.Sources[i]);
            }

            for (int i = 0; i < _scenario.Ops.Length; i++)
            {
                Step(i, _scenario.Ops[i]);
            }

            Step(_scenario.Ops.Length, new Wait(0));
            return null;
        }
        catch (ViolationException violation)
        {
            return new Violation(violation.Rule, violation.Message, _trace.ToString());
        }
        catch (HarnessException harness)
        {
            return new Violation(Rule.Harness, harness.Message, _trace.ToString());
        }
        finally
        {
            foreach (Subject? subject in _subjects)
            {
                subject?.Dispose();
            }

            _poll?.Dispose();
        }
    }

    private void Step(int index, Op op)
    {
        _trace.Append($"  {index + 1,3}. {op}");
        if (op is Wait wait)
        {
            _trace.AppendLine();
            CheckWait(index, wait.Milliseconds);
            return;
        }

        SourceModel model = _models[op.Source];
        Subject subject = _subjects[op.Source]!;
        string? outcome = model.Disposed ? null : Apply(op, model, subject);
        _trace.AppendLine(outcome is null ? "   (skipped: does not apply now)" : outcome.Length == 0 ? string.Empty : $"   -> {outcome}");
    }

    /// <summary>Applies one operation to the real source and the model; null when its precondition fails (skipped).</summary>
    private string? Apply(Op op, SourceModel m, Subject subject)
    {
        Registry registry = _poll!.Registry;
        bool stream = m.Kind is SourceKind.TcpStream or SourceKind.UnixStream;
        switch (op)
        {
            case Register r:
            {
                if (m.Registration is not null || TokenTaken(r.Token, m))
                {
                    return null;
                }

                (Interest interest, Trigger trigger) = m.Kind == SourceKind.Waker ? (Interest.Readable, Trigger.Edge) : (r.Interest, r.Trigger);
                subject.Register(registry, (Token)r.Token, interest, trigger);
                m.Registration = new RegistrationModel(r.Token, interest, trigger, "Register") { Generation = _generation++ };
                _retired.Remove(r.Token);
                return string.Empty;
            }

            case Reregister r:
            {
                if (m.Registration is not { } old || m.Kind == SourceKind.Waker || TokenTaken(r.Token, m))
                {
                    return null;
                }

                subject.Reregister(registry, (Token)r.Token, r.Interest, r.Trigger);
                if (old.Token != r.Token)
                {
                    _retired[old.Token] = "reregistered under another token";
                }

                m.Registration = new RegistrationModel(r.Token, r.Interest, r.Trigger, "Reregister") { Generation = _generation++ };
                _retired.Remove(r.Token);
                return string.Empty;
            }

            case Deregister:
            {
                if (m.Registration is not { } old || m.Kind == SourceKind.Waker)
                {
                    return null;
                }

                subject.Deregister(registry);
                _retired[old.Token] = "deregistered";
                m.Registration = null;
                return string.Empty;
            }

            case PeerWrite w:
            {
                bool open = m.Kind switch
                {
                    SourceKind.TcpStream or SourceKind.UnixStream => !m.PeerWriteShut && !m.PeerClosed && !m.Reset && m.Avail + (ulong)w.Bytes <= StreamCap,
                    SourceKind.PipeReader => !m.PeerClosed && m.Avail + (ulong)w.Bytes <= StreamCap,
                    SourceKind.Udp => m.Avail < 16,
                    SourceKind.TcpListener or SourceKind.UnixListener => m.Avail < 8,
                    SourceKind.EventFd or SourceKind.RawEventFd => true,
                    SourceKind.Waker => m.Registration is not null,
                    SourceKind.Channel => !m.PeerClosed && m.Avail < 64,
                    SourceKind.Timer => true,
                    SourceKind.TimerWheel => m.Avail < 64,
                    _ => false,
                };
                if (!open)
                {
                    return null;
                }

                ulong units = subject.PeerWrite(w.Bytes);
                if (m.Kind is SourceKind.EventFd or SourceKind.RawEventFd)
                {
                    bool fits = EventFdSource.MaxCounter - m.Avail >= (ulong)w.Bytes;
                    Expect(units == (fits ? (ulong)w.Bytes : 0), $"the eventfd add returned {units}", m);
                }

                if (m.Kind == SourceKind.Waker)
                {
                    m.Avail = 1;
                    m.WouldBlock(Interest.Readable);   // Wake() rearms: the counter is never read
                }
                else if (m.Kind == SourceKind.Timer)
                {
                    // Re-arming discards unread expirations; then it expires once. Setting a timer is new
                    // readiness even if the last expiry was never read (issue 9: poll(2) missed it).
                    m.Avail = 1;
                    m.WouldBlock(Interest.Readable);
                }
                else
                {
                    m.Avail += units;
                }

                if (units > 0)
                {
                    m.Signalled = true;
                    m.Wake(Fresh.Read);
                }

                return $"{units} delivered";
            }

            case PeerRead r:
            {
                if (!(stream || m.Kind == SourceKind.PipeWriter) || m.PeerClosed || m.Reset)
                {
                    return null;
                }

                long read = subject.PeerRead(r.Bytes);
                m.PeerAvail = Math.Max(0, m.PeerAvail - read);
                if (read > 0)
                {
                    if (m.Room == Tri.No)
                    {
                        m.Room = Tri.Maybe;
                    }

                    m.Wake(Fresh.Write);
                }

                return $"{read} read by the peer";
            }

            case PeerDrain:
            {
                if (!(stream || m.Kind == SourceKind.PipeWriter) || m.PeerClosed || m.Reset)
                {
                    return null;
                }

                long read = subject.PeerDrain();
                if (read > 0 || m.Room != Tri.Yes)
                {
                    m.Wake(Fresh.Write);
                }

                m.PeerAvail = 0;
                m.Room = Tri.Yes;
                m.AsyncRoom = false;
                return $"{read} read by the peer";
            }

            case PeerShutdown:
            {
                if (!stream || m.PeerWriteShut || m.PeerClosed || m.Reset)
                {
                    return null;
                }

                subject.PeerShutdown();
                m.PeerWriteShut = true;
                m.Wake(Fresh.All);
                return string.Empty;
            }

            case PeerClose when m.Kind == SourceKind.Channel:
            {
                if (m.PeerClosed)
                {
                    return null;
                }

                subject.PeerClose(expectReset: false);
                m.PeerClosed = true;
                m.Signalled = true;   // completion wakes the loop; a completed channel stays ready
                m.Wake(Fresh.Read);
                return string.Empty;
            }

            case PeerClose:
            {
                if (!(stream || m.Kind is SourceKind.PipeReader or SourceKind.PipeWriter) || m.PeerClosed || m.Reset)
                {
                    return null;
                }

                bool reset = m.Kind == SourceKind.TcpStream && m.PeerAvail > 0;

                // A TCP peer that already shut down its sending side has sent its FIN; closing it now, with nothing
                // unread, sends no segment at all (tcp_close in FIN_WAIT_1/2: no second FIN, no RST). The local
                // socket's state and poll mask stay as they are and its wait queue is never woken, so an edge
                // registration gets no event — even one that TakeError "rearmed": there is no new readiness.
                bool seenByLocalEnd = !(m.Kind == SourceKind.TcpStream && m.PeerWriteShut && !reset);
                subject.PeerClose(reset);
                if (m.Kind == SourceKind.TcpStream)
                {
                    if (reset)
                    {
                        BecomeReset(m);
                    }
                    else
                    {
                        m.PeerWriteShut = true;
                    }
                }
                else if (m.Kind == SourceKind.UnixStream)
                {
                    // The peer's unread data is dropped and reported to us as ECONNRESET; our sent data is freed.
                    m.ErrPending = m.PeerAvail > 0;
                    m.PeerAvail = 0;
                    m.PeerWriteShut = true;
                }

                m.PeerClosed = true;
                if (seenByLocalEnd)
                {
                    m.Wake(Fresh.All);
                }

                return reset ? "the peer had unread data: RST" : seenByLocalEnd ? string.Empty : "FIN already sent: no segment, no wakeup";
            }

            case PeerReset:
            {
                if (m.Kind != SourceKind.TcpStream || m.PeerClosed || m.Reset)
                {
                    return null;
                }

                subject.PeerReset();
                BecomeReset(m);
                m.PeerClosed = true;
                m.Wake(Fresh.All);
                return string.Empty;
            }

            case Read r:
            {
                if (m.Kind is SourceKind.PipeWriter or SourceKind.Waker)
                {
                    return null;
                }

                ReadOutcome outcome = subject.Read(r.Bytes);
                ApplyRead(m, outcome);
                return outcome.ToString();
            }

            case Drain:
            {
                if (m.Kind is SourceKind.PipeWriter or SourceKind.Waker)
                {
                    return null;
                }

                var outcomes = new List<string>();
                for (int round = 0; ; round++)
                {
                    if (round > 10_000)
                    {
                        throw new HarnessException("a drain did not reach would-block or end of stream");
                    }

                    ReadOutcome outcome = subject.Read(64 * 1024);
                    ApplyRead(m, outcome);
                    outcomes.Add(outcome.ToString());
                    if (outcome.Status is ReadStatus.WouldBlock or ReadStatus.EndOfStream)
                    {
                        break;
                    }
                }

                return string.Join(", ", outcomes);
            }

            case Fill:
                return ApplyFill(m, subject);

            case TakeError:
            {
                if (!(stream || m.Kind == SourceKind.Udp))
                {
                    return null;
                }

                System.Net.Sockets.SocketError error = subject.TakeError();
                Expect((error != System.Net.Sockets.SocketError.Success) == m.ErrPending, $"TakeError returned {error}", m);
                m.ErrPending = false;
                m.Failed();   // reading SO_ERROR counts as new readiness for the backend (issue 9)
                return error.ToString();
            }

            case IcmpError:
            {
                if (m.Kind != SourceKind.Udp || m.ErrPending)
                {
                    return null;
                }

                ((UdpSubject)subject).IcmpError();
                m.ErrPending = true;
                m.Wake(Fresh.All);   // an error report wakes every registration, whatever its interest
                return "ECONNREFUSED pending";
            }

            case ConcurrentPeerWrites c:
            {
                if (m.Kind != SourceKind.Channel || m.PeerClosed || m.Avail >= 64)
                {
                    return null;
                }

                (long written, long read, bool drained) = ((ChannelSubject)subject).ConcurrentWrites(c.Producers, c.Messages);
                Expect(written == (long)c.Producers * c.Messages, $"{written} of {c.Producers * c.Messages} concurrent writes succeeded", m);
                Expect((ulong)read <= m.Avail + (ulong)written, $"the loop read {read} messages of {m.Avail + (ulong)written}", m);
                m.Avail = m.Avail + (ulong)written - (ulong)read;
                if (drained)
                {
                    m.WouldBlock(Interest.Readable);   // the last TryRead said empty: what came after it must be announced
                }

                m.Signalled = m.Avail > 0 || (!drained && m.Signalled);
                m.MaybeSignalled = !m.Signalled;
                m.Wake(Fresh.Read);
                return $"{written} written, {read} read concurrently{(drained ? ", then empty" : string.Empty)}, {m.Avail} left";
            }

            case DisposeSource:
            {
                subject.DisposeLocal();
                if (m.Registration is { } old)
                {
                    _retired[old.Token] = "disposed";
                }

                m.Registration = null;
                m.Disposed = true;
                return string.Empty;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    private static void BecomeReset(SourceModel m)
    {
        // In CLOSE_WAIT (FIN seen first) the kernel records EPIPE and reads keep returning end of stream.
        m.FinBeforeReset = m.PeerWriteShut;
        m.Reset = true;
        m.ErrPending = true;
        m.PeerAvail = 0;
    }

    private string? ApplyFill(SourceModel m, Subject subject)
    {
        switch (m.Kind)
        {
            case SourceKind.TcpStream when !m.PeerClosed && !m.Reset:
            case SourceKind.UnixStream when !m.Reset:
            case SourceKind.PipeWriter:
            {
                bool broken = m.Kind != SourceKind.TcpStream && m.PeerClosed;
                FillOutcome outcome = subject.Fill();
                Expect(outcome.Error == broken, broken ? "a fill towards a closed peer did not fail" : "a fill failed", m);
                if (outcome.Error)
                {
                    m.Failed();   // EPIPE: the throw leaves the source armed (issue 9)
                }

                if (outcome.WouldBlock)
                {
                    Expect(m.Room != Tri.No || outcome.Written == 0 || m.Kind == SourceKind.TcpStream, $"a fill wrote {outcome.Written} bytes with no room", m);
                    m.PeerAvail += outcome.Written;
                    m.Room = m.Kind == SourceKind.TcpStream ? Tri.Maybe : Tri.No;
                    m.AsyncRoom = m.Kind == SourceKind.TcpStream;
                    m.WouldBlock(Interest.Writable);
                }

                return outcome.ToString();
            }

            case SourceKind.EventFd or SourceKind.RawEventFd:
            {
                ulong added = ((EventFdSubject)subject).FillCounter(m.Avail);
                m.Avail = EventFdSource.MaxCounter;
                m.Room = Tri.No;
                m.WouldBlock(Interest.Writable);
                if (added > 0)
                {
                    m.Wake(Fresh.Read);
                }

                return $"counter raised by {added} to the maximum, then would-block";
            }

            default:
                return null;
        }
    }

    private static void ApplyRead(SourceModel m, ReadOutcome outcome)
    {
        switch (m.Kind)
        {
            case SourceKind.TcpStream or SourceKind.UnixStream or SourceKind.PipeReader:
            {
                bool ended = m.Kind == SourceKind.PipeReader ? m.PeerClosed : m.PeerWriteShut || m.Reset;
                bool errorNext = m.ErrPending && !m.FinBeforeReset;
                switch (outcome.Status)
                {
                    case ReadStatus.Data:
                        Expect(outcome.Count <= m.Avail, $"read {outcome.Count} bytes", m);
                        m.Avail -= outcome.Count;
                        break;
                    case ReadStatus.Error:
                        Expect(m.Avail == 0 && errorNext, "a read failed", m);
                        m.ErrPending = false;
                        m.Failed();   // a Try… that throws leaves the source armed (issue 9)
                        break;
                    case ReadStatus.EndOfStream:
                        Expect(m.Avail == 0 && ended && !errorNext, "a read returned end of stream", m);
                        break;
                    case ReadStatus.WouldBlock:
                        Expect(m.Avail == 0 && !ended && !errorNext, "a read would block", m);
                        m.WouldBlock(Interest.Readable);
                        break;
                }

                break;
            }

            case SourceKind.Channel or SourceKind.TimerWheel:
                switch (outcome.Status)
                {
                    case ReadStatus.Data:
                        Expect(m.Avail > 0, "a read returned a message or an expired timeout", m);
                        m.Avail--;
                        break;
                    case ReadStatus.EndOfStream:
                        Expect(m.Avail == 0 && m.PeerClosed, "a read found the channel completed", m);
                        break;
                    default:
                        Expect(outcome.Status == ReadStatus.WouldBlock && m.Avail == 0 && !m.PeerClosed, $"a read returned {outcome}", m);
                        m.Signalled = false;
                        m.MaybeSignalled = false;
                        m.WouldBlock(Interest.Readable);
                        break;
                }

                break;

            case SourceKind.Timer:
                if (outcome.Status == ReadStatus.Data)
                {
                    Expect(m.Avail > 0 && outcome.Count == 1, $"read {outcome.Count} expirations", m);
                    m.Avail = 0;
                }
                else
                {
                    Expect(outcome.Status == ReadStatus.WouldBlock && m.Avail == 0, $"a read returned {outcome}", m);
                }

                // A read takes every expiration, so the source rearms after any read.
                m.WouldBlock(Interest.Readable);
                break;

            case SourceKind.EventFd or SourceKind.RawEventFd:
                if (outcome.Status == ReadStatus.Data)
                {
                    Expect(outcome.Count == m.Avail, $"read the counter as {outcome.Count}", m);
                    m.Avail = 0;
                    m.Room = Tri.Yes;
                    m.Wake(Fresh.Write);   // eventfd_read wakes EPOLLOUT waiters
                }
                else
                {
                    Expect(outcome.Status == ReadStatus.WouldBlock && m.Avail == 0, $"a read returned {outcome}", m);
                    m.WouldBlock(Interest.Readable);
                }

                break;

            default:   // UDP datagrams and listener connections: one unit per read
                if (outcome.Status == ReadStatus.Error)
                {
                    Expect(m.Kind == SourceKind.Udp && m.ErrPending, "a receive failed", m);
                    m.ErrPending = false;
                    m.Failed();   // a Try… that throws leaves the source armed (issue 9)
                }
                else if (outcome.Status == ReadStatus.Data)
                {
                    Expect(m.Avail > 0, "a read returned a unit", m);
                    m.Avail--;
                }
                else
                {
                    Expect(outcome.Status == ReadStatus.WouldBlock && m.Avail == 0, $"a read returned {outcome}", m);
                    m.WouldBlock(Interest.Readable);
                }

                break;
        }
    }

    private void CheckWait(int opIndex, int milliseconds)
    {
        List<Requirement> required = [];
        for (int i = 0; i < _models.Length; i++)
        {
            if (Requirement.For(i, _models[i]) is { } requirement)
            {
                required.Add(requirement);
            }
        }

        var record = _records is null ? null : new WaitRecord(opIndex, new Dictionary<ulong, uint>(), new Dictionary<ulong, TokenInfo>());
        if (record is not null)
        {
            foreach (SourceModel m in _models)
            {
                if (m.Registration is { } r)
                {
                    record.Tokens[r.Token] = new TokenInfo(m.Kind, r.Trigger, m.AsyncRoom || m.Mask.Out == Tri.Maybe, r.Generation, r.RearmedByFailure);
                }
            }
        }

        int live = _models.Count(m => m.Registration is not null);
        long deadline = Environment.TickCount64 + (long)AsyncDeadline.TotalMilliseconds;
        int timeout = milliseconds;
        for (int attempt = 1; ; attempt++)
        {
            _poll!.Wait(_events!, TimeSpan.FromMilliseconds(timeout));
            _trace.Append("       events:");
            if (_events!.IsEmpty)
            {
                _trace.Append(" none");
            }

            foreach (Event ev in _events)
            {
                _trace.Append(' ').Append(ev);
                Observe(ev, required, record);
            }

            _trace.AppendLine();
            List<Requirement> missing = [.. required.Where(r => !r.Satisfied)];
            if (missing.Count == 0)
            {
                break;
            }

            bool full = _events.Count == _events.Capacity && attempt < 4 * live + 4;
            bool waitingForAsync = missing.Any(r => _models[r.Source].IsAsynchronous) && Environment.TickCount64 < deadline;
            if (full || waitingForAsync)
            {
                timeout = full ? 0 : 20;
                continue;
            }

            Requirement first = missing[0];
            SourceModel m = _models[first.Source];
            throw new ViolationException(first.Rule, $"s{first.Source} ({m.Registration}) must be reported ({first.Describe()}) but was not. State: {m}");
        }

        _records?.Add(record!);
        foreach (SourceModel m in _models)
        {
            if (m.Registration is { } r)
            {
                r.Why = "ready";
            }
        }
    }

    /// <summary>Checks one event against the model and updates the model with it.</summary>
    private void Observe(Event ev, List<Requirement> required, WaitRecord? record)
    {
        ulong token = (ulong)ev.Token;
        int index = Array.FindIndex(_models, m => m.Registration?.Token == token);
        if (index < 0)
        {
            string what = _retired.TryGetValue(token, out string? why) ? $"a source that was {why}" : "no registration at all";
            throw new ViolationException(Rule.SilentSourceReported, $"{ev} carries token 0x{token:X}, which belongs to {what}");
        }

        SourceModel m = _models[index];
        RegistrationModel r = m.Registration!;
        uint flags = ev.Flags;
        if (record is not null)
        {
            record.Flags[token] = record.Flags.GetValueOrDefault(token) | flags;
        }

        if (r.IsOneshot && r.Fired)
        {
            throw new ViolationException(Rule.OneshotRepeat, $"s{index} ({r}) reported {ev} although its one event already came and it was not reregistered");
        }

        bool edgeIsLevel = _backend == PollBackend.Poll && !m.RearmsOnWouldBlock;
        if (r.IsEdge && !r.IsOneshot && !edgeIsLevel)
        {
            bool fresh = (r.Wants(Interest.Readable) && (r.Fresh & Fresh.Read) != 0)
                || (r.Wants(Interest.Writable) && ((r.Fresh & Fresh.Write) != 0 || m.AsyncRoom))
                || (_backend == PollBackend.Poll && r.RearmedByFailure);
            if (!fresh)
            {
                throw new ViolationException(Rule.EdgeRepeat, $"s{index} ({r}) reported {ev} although nothing happened to it since its last event. State: {m}");
            }
        }

        CheckFlags(index, m, r, ev, edgeIsLevel);

        foreach (Requirement requirement in required)
        {
            if (requirement.Source == index)
            {
                requirement.Observe(ev);
            }
        }

        if (r.IsOneshot)
        {
            r.Fired = true;
        }

        if (r.IsEdge)
        {
            if ((flags & (In | Pri | RdHup | Hup | Err)) != 0)
            {
                r.ArmedRead = false;
            }

            if ((flags & (Out | Hup | Err)) != 0)
            {
                r.ArmedWrite = false;
            }

            r.Fresh = Fresh.None;
            r.RearmedByFailure = false;
        }
    }

    private void CheckFlags(int index, SourceModel m, RegistrationModel r, Event ev, bool edgeIsLevel)
    {
        Mask mask = m.Mask;
        uint flags = ev.Flags;
        string? problem = null;
        bool wantsRead = r.Wants(Interest.Readable);
        bool wantsWrite = r.Wants(Interest.Writable);
        bool reportsAll = !r.IsEdge || r.IsOneshot || edgeIsLevel || _backend == PollBackend.Epoll;

        void Bit(string name, uint bit, Tri state, bool requested, bool mustShow)
        {
            bool shown = (flags & bit) != 0;
            if (shown && (!requested || state == Tri.No))
            {
                problem ??= requested ? $"{name} is set but the state says it cannot be" : $"{name} is set but was not asked for";
            }
            else if (!shown && mustShow && state == Tri.Yes)
            {
                problem ??= $"{name} is missing although the state says it must be set";
            }
        }

        // epoll reports every ready bit it was asked for; poll(2)'s edge emulation only the armed directions.
        bool readShown = (flags & (In | RdHup)) != 0;
        bool writeShown = (flags & Out) != 0;
        bool mustRead = wantsRead && (readShown || reportsAll || r.ArmedRead);
        bool mustWrite = wantsWrite && (writeShown || reportsAll || r.ArmedWrite);
        Bit("Readable (EPOLLIN)", In, mask.In, wantsRead, mustRead);
        Bit("read-closed (EPOLLRDHUP)", RdHup, mask.RdHup, wantsRead, mustRead && (flags & In) != 0);
        Bit("Writable (EPOLLOUT)", Out, mask.Out, wantsWrite, mustWrite);
        Bit("hang-up (EPOLLHUP)", Hup, mask.Hup, requested: true, mustShow: true);
        Bit("error (EPOLLERR)", Err, mask.Err, requested: true, mustShow: true);
        Bit("priority (EPOLLPRI)", Pri, Tri.No, requested: true, mustShow: false);
        if (problem is not null)
        {
            throw new ViolationException(Rule.FlagMismatch, $"s{index} ({r}) reported {ev}: {problem}. State: {m} ({mask})");
        }
    }

    private bool TokenTaken(ulong token, SourceModel self) =>
        _models.Any(m => m != self && m.Registration?.Token == token);

    private static void Expect(bool condition, string what, SourceModel m)
    {
        if (!condition)
        {
            throw new ViolationException(Rule.ModelMismatch, $"{what}, which the model does not expect. State: {m}");
        }
    }

    /// <summary>What one wait must show for one source: an event, with these directions.</summary>
    private sealed class Requirement
    {
        private bool _sawRead;
        private bool _sawWrite;

        private Requirement(int source, bool read, bool write, Rule rule)
        {
            Source = source;
            NeedsRead = read;
            NeedsWrite = write;
            Rule = rule;
        }

        public int Source { get; }

        public bool NeedsRead { get; }

        public bool NeedsWrite { get; }

        public Rule Rule { get; }

        public bool Satisfied { get; private set; }

        /// <summary>The requirement the model puts on the next wait for source <paramref name="index"/>, or null.</summary>
        public static Requirement? For(int index, SourceModel m)
        {
            if (m.Disposed || m.Registration is not { } r)
            {
                return null;
            }

            Mask mask = m.Mask;
            bool readReady = r.Wants(Interest.Readable) && mask.ReadReady == Tri.Yes;
            bool writeReady = r.Wants(Interest.Writable) && mask.WriteReady == Tri.Yes;
            bool read;
            bool write;
            Rule rule;
            if (r.IsOneshot)
            {
                read = readReady && !r.Fired;
                write = writeReady && !r.Fired;
                rule = Rule.LostOneshotEvent;
            }
            else if (!r.IsEdge)
            {
                read = readReady;
                write = writeReady;
                rule = Rule.LevelNotRepeated;
            }
            else
            {
                read = readReady && r.ArmedRead;
                write = writeReady && r.ArmedWrite;
                rule = m.Kind == SourceKind.Waker ? Rule.LostWake : Rule.LostEdgeEvent;
            }

            if (r.Why == "Reregister")
            {
                rule = Rule.ReregisterNotEffective;
            }

            return read || write ? new Requirement(index, read, write, rule) : null;
        }

        public void Observe(Event ev)
        {
            _sawRead |= ev.IsReadable || ev.IsReadClosed || ev.IsError;
            _sawWrite |= ev.IsWritable || ev.IsWriteClosed || ev.IsError;
            Satisfied = (!NeedsRead || _sawRead) && (!NeedsWrite || _sawWrite);
        }

        public string Describe() => (NeedsRead, NeedsWrite) switch
        {
            (true, true) => "readable and writable",
            (true, false) => "readable",
            _ => "writable",
        };
    }

    private sealed class ViolationException(Rule rule, string message) : Exception(message)
    {
        public Rule Rule { get; } = rule;
    }
}
