using System.Text;
using Xunit.Abstractions;

namespace Polling.Tests.Sources;

/// <summary>
/// Explicit-state model checking of <c>Notifier</c>'s wake protocol: one consumer (the loop: wait, then
/// <c>TryRead</c> until false) and two producers (publish, fence + read state, exchange, eventfd write,
/// count the write, rearm), every shared-memory or system-call step atomic and sequentially consistent (each
/// is an Interlocked operation, a fenced read or a system call in the code). The checker explores every state
/// reachable under every interleaving, so every interleaving is a path it walked. It checks:
/// <list type="bullet">
/// <item>no lost wake-up: whenever every producer is done and the consumer is blocked with no event to come,
/// the channel is empty and the state is Armed (so the next producer writes the eventfd). The issue's symptom —
/// data present, state Notified, counter 0 — is one such violation;</item>
/// <item>no busy loop: from every such quiescent state, the consumer reaches "blocked" (a stale counter must not
/// keep a Level or emulated-edge registration reporting forever).</item>
/// </list>
/// Wake rules: epoll Level (counter &gt; 0), epoll Edge (counter &gt; 0 and a write since the last report) and
/// poll(2)'s emulated edge (counter &gt; 0 and armed; a report disarms, a write or the consumer's would-block rearms).
/// The model of the consumer mirrors <c>Notifier.TryTakeWhenEmpty</c> step by step; the old protocols are kept
/// here to show the checker finds the bug issue 9 reported.
/// </summary>
public sealed class NotifierProtocolTests(ITestOutputHelper output)
{
    public enum Protocol
    {
        /// <summary>Notifier.TryTakeWhenEmpty today: arm, look; [reset if a wake may be pending, arm, look].</summary>
        Current,

        /// <summary>Current without the "a write completed since the last reset" test: correct, but a late write can make it spin.</summary>
        CurrentWithoutWritesCheck,

        /// <summary>ChannelSource before the fix: arm, look, arm, reset, look.</summary>
        OldChannel,

        /// <summary>SignalSource before the fix: arm; if notified: reset, look; else look.</summary>
        OldSignal,
    }

    public enum WakeRule { EpollLevel, EpollEdge, PollEdge }

    [Theory]
    [InlineData(WakeRule.EpollEdge, 1)]
    [InlineData(WakeRule.EpollEdge, 2)]
    [InlineData(WakeRule.EpollLevel, 1)]
    [InlineData(WakeRule.EpollLevel, 2)]
    [InlineData(WakeRule.PollEdge, 1)]
    [InlineData(WakeRule.PollEdge, 2)]
    public void CurrentProtocol_NoInterleavingLosesAWakeUpOrSpins(WakeRule rule, int messagesPerProducer)
    {
        Result result = Check(Protocol.Current, rule, messagesPerProducer);
        output.WriteLine(result.Summary);
        Assert.True(result.Violation is null, result.Violation);
        Assert.True(result.States > 1000, "the model explored suspiciously little");
    }

    [Theory]
    [InlineData(Protocol.OldChannel, WakeRule.EpollEdge)]
    [InlineData(Protocol.OldChannel, WakeRule.EpollLevel)]
    [InlineData(Protocol.OldChannel, WakeRule.PollEdge)]
    [InlineData(Protocol.OldSignal, WakeRule.EpollEdge)]
    [InlineData(Protocol.OldSignal, WakeRule.PollEdge)]
    public void OldProtocols_the_checker_finds_the_lost_wake_up(Protocol protocol, WakeRule rule)
    {
        Result result = Check(protocol, rule, messagesPerProducer: 1);
        output.WriteLine(result.Summary);
        output.WriteLine(result.Violation ?? "no violation");
        Assert.NotNull(result.Violation);
        Assert.Contains("lost wake-up", result.Violation);
        Assert.Contains("state Notified, counter 0", result.Violation);
    }

    [Theory]
    [InlineData(WakeRule.EpollLevel)]
    [InlineData(WakeRule.PollEdge)]
    public void WithoutTheWritesCheck_a_late_write_keeps_the_consumer_spinning(WakeRule rule)
    {
        Result result = Check(Protocol.CurrentWithoutWritesCheck, rule, messagesPerProducer: 1);
        output.WriteLine(result.Summary);
        output.WriteLine(result.Violation ?? "no violation");
        Assert.NotNull(result.Violation);
        Assert.Contains("busy loop", result.Violation);
    }

    [Fact]
    public void WithoutTheWritesCheck_epoll_edge_loses_nothing()
    {
        // The check only matters for wake rules that report a stale counter again; epoll Edge reports it once.
        Result result = Check(Protocol.CurrentWithoutWritesCheck, WakeRule.EpollEdge, messagesPerProducer: 1);
        Assert.True(result.Violation is null, result.Violation);
    }

    // ---- the model ----

    private const int Producers = 2;

    // Consumer program counters.
    private const byte Blocked = 0, FirstLook = 1, Took = 2, Arm1 = 3, Look1 = 4, Disarm = 5, ReadWrites = 6, ReadState = 7,
        Reset = 8, Arm3 = 9, Look2 = 10, KeepNotified = 11, KeepWrite = 12, KeepCount = 13, KeepRearm = 14, WouldBlock = 15,
        OldArm2 = 16, SignalLook = 17;

    // Producer program counters.
    private const byte Publish = 0, ReadArmed = 1, Exchange = 2, WriteFd = 3, CountWrite = 4, RearmFd = 5, Done = 6;

    /// <summary>One global state: shared memory, the kernel's view, every thread's program counter and locals.</summary>
    private readonly record struct S(
        byte Data, bool Notified, byte Counter, byte Writes, bool EdgePending, bool PollArmed,
        byte C, bool CNotified, byte CWrites, byte CWritesAtReset,
        byte P0, byte P0Left, byte P1, byte P1Left)
    {
        public bool ProducersDone => P0 == Done && P1 == Done;
    }

    public sealed record Result(int States, int Transitions, string? Violation, string Summary);

    private static Result Check(Protocol protocol, WakeRule rule, int messagesPerProducer)
    {
        var start = new S(0, false, 0, 0, false, true, Blocked, false, 0, 0, Publish, (byte)messagesPerProducer, Publish, (byte)messagesPerProducer);
        var parent = new Dictionary<S, (S From, string Step)>();
        var queue = new Queue<S>();
        parent[start] = (start, "start");
        queue.Enqueue(start);
        int transitions = 0;
        var successors = new List<(S, string)>();
        while (queue.Count > 0)
        {
            S s = queue.Dequeue();
            successors.Clear();
            Successors(s, protocol, rule, successors);
            if (s.ProducersDone && s.C == Blocked)
            {
                string? problem = Quiescent(s, protocol, rule);
                if (problem is not null)
                {
                    return Fail(parent, s, problem, protocol, rule, transitions);
                }
            }

            foreach ((S next, string step) in successors)
            {
                transitions++;
                if (parent.TryAdd(next, (s, step)))
                {
                    queue.Enqueue(next);
                }
            }
        }

        return new Result(parent.Count, transitions, null,
            $"{protocol}/{rule}, {Producers} producers x {messagesPerProducer}: {parent.Count} states, {transitions} transitions, no violation");
    }

    /// <summary>Every producer is done: the consumer must block with nothing left and the state Armed, and get there without spinning.</summary>
    private static string? Quiescent(S s, Protocol protocol, WakeRule rule)
    {
        if (!s.ProducersDone)
        {
            return null;
        }

        // Run the consumer alone (draining, as an Edge loop must) until it blocks.
        var list = new List<(S, string)>();
        for (int step = 0; step < 1000; step++)
        {
            if (s.C == Blocked && !CanWake(s, rule))
            {
                if (s.Data > 0 || s.Notified)
                {
                    return $"lost wake-up: every producer done, the consumer blocked with no event to come, {s.Data} message(s) in the channel, " +
                        $"state {(s.Notified ? "Notified" : "Armed")}, counter {s.Counter}";
                }

                return null;
            }

            list.Clear();
            ConsumerSuccessors(s, protocol, rule, list);
            s = list[0].Item1;
        }

        return $"busy loop: every producer done, channel empty ({s.Data}), the consumer keeps being woken and reading nothing (counter {s.Counter})";
    }

    private static bool CanWake(S s, WakeRule rule) => s.Counter > 0 && rule switch
    {
        WakeRule.EpollLevel => true,
        WakeRule.EpollEdge => s.EdgePending,
        _ => s.PollArmed,
    };

    private static void Successors(S s, Protocol protocol, WakeRule rule, List<(S, string)> into)
    {
        ConsumerSuccessors(s, protocol, rule, into);
        ProducerSuccessor(s, 0, into);
        ProducerSuccessor(s, 1, into);
    }

    private static void ConsumerSuccessors(S s, Protocol protocol, WakeRule rule, List<(S, string)> into)
    {
        switch (s.C)
        {
            case Blocked:
                if (CanWake(s, rule))
                {
                    into.Add((s with { C = FirstLook, EdgePending = false, PollArmed = rule != WakeRule.PollEdge && s.PollArmed }, "C: Wait reports the source"));
                }

                break;
            case FirstLook:
                into.Add(s.Data > 0
                    ? (s with { Data = (byte)(s.Data - 1), C = Took }, "C: TryRead takes a message")
                    : (s with { C = Arm1 }, "C: TryRead finds the channel empty"));
                break;
            case Took:
                into.Add((s with { C = FirstLook }, "C: reads on"));
                if (rule == WakeRule.EpollLevel)
                {
                    into.Add((s with { C = Blocked }, "C: (Level) goes back to Wait with messages left"));
                }

                break;
            case Arm1:
                into.Add((s with { Notified = false, CNotified = s.Notified, C = protocol == Protocol.OldSignal ? (s.Notified ? Reset : SignalLook) : Look1 },
                    s.Notified ? "C: arm (was Notified)" : "C: arm (was Armed)"));
                break;
            case Look1:
                if (s.Data > 0)
                {
                    into.Add((s with { Data = (byte)(s.Data - 1), C = s.CNotified ? Disarm : Took }, "C: look after arm takes a message"));
                }
                else
                {
                    into.Add((s with { C = protocol is Protocol.OldChannel ? OldArm2 : ReadWrites }, "C: look after arm finds nothing"));
                }

                break;
            case Disarm:
                into.Add((s with { Notified = true, C = Took }, s.Notified ? "C: disarm (no-op: a producer flipped it)" : "C: disarm"));
                break;
            case ReadWrites:
                into.Add((s with { CWrites = s.Writes, C = ReadState }, "C: read Writes"));
                break;
            case ReadState:
                bool mayBeReadable = s.CNotified || s.Notified || (protocol == Protocol.Current && s.CWrites != s.CWritesAtReset);
                into.Add((s with { C = mayBeReadable ? Reset : WouldBlock }, mayBeReadable ? "C: a wake may be pending" : "C: no wake pending"));
                break;
            case OldArm2:
                bool wake = s.Notified || s.CNotified;
                into.Add((s with { Notified = false, C = wake ? Reset : WouldBlock }, s.Notified ? "C: arm again (was Notified)" : "C: arm again (was Armed)"));
                break;
            case Reset:
                byte next = protocol switch
                {
                    Protocol.Current or Protocol.CurrentWithoutWritesCheck => Arm3,
                    _ => Look2,
                };
                into.Add((s with { Counter = 0, CWritesAtReset = s.CWrites, C = next }, s.Counter > 0 ? "C: reset the eventfd (swallows a write)" : "C: reset the eventfd (was 0)"));
                break;
            case Arm3:
                into.Add((s with { Notified = false, C = Look2 }, s.Notified ? "C: arm after the reset (was Notified)" : "C: arm after the reset (was Armed)"));
                break;
            case Look2:
                into.Add(s.Data > 0
                    ? (s with { Data = (byte)(s.Data - 1), C = KeepNotified }, "C: last look takes a message")
                    : (s with { C = WouldBlock }, "C: last look finds nothing"));
                break;
            case SignalLook:
                into.Add(s.Data > 0
                    ? (s with { Data = (byte)(s.Data - 1), C = Took }, "C: look takes a message")
                    : (s with { C = WouldBlock }, "C: look finds nothing"));
                break;
            case KeepNotified:
                into.Add((s with { Notified = true, C = KeepWrite }, "C: KeepReady: state Notified"));
                break;
            case KeepWrite:
                into.Add((s with { Counter = (byte)(s.Counter + 1), EdgePending = true, C = KeepCount }, "C: KeepReady: write the eventfd"));
                break;
            case KeepCount:
                into.Add((s with { Writes = (byte)(s.Writes + 1), C = KeepRearm }, "C: KeepReady: count the write"));
                break;
            case KeepRearm:
                into.Add((s with { PollArmed = true, C = Took }, "C: KeepReady: rearm"));
                break;
            case WouldBlock:
                into.Add((s with { PollArmed = true, C = Blocked }, "C: TryRead returns false (rearm), back to Wait"));
                break;
        }
    }

    private static void ProducerSuccessor(S s, int p, List<(S, string)> into)
    {
        byte pc = p == 0 ? s.P0 : s.P1;
        byte left = p == 0 ? s.P0Left : s.P1Left;
                (S, string) step;
        switch (pc)
        {
            case Publish:
                if (left == 0)
                {
                    step = (With(s, p, Done, left), "done");
                }
                else
                {
                    step = (With(s with { Data = (byte)(s.Data + 1) }, p, ReadArmed, (byte)(left - 1)), "publish a message");
                }

                break;
            case ReadArmed:
                step = (With(s, p, s.Notified ? Publish : Exchange, left), s.Notified ? "fence, read state Notified: skip the write" : "fence, read state Armed");
                break;
            case Exchange:
                step = (With(s with { Notified = true }, p, s.Notified ? Publish : WriteFd, left), s.Notified ? "exchange lost" : "exchange Armed -> Notified won");
                break;
            case WriteFd:
                step = (With(s with { Counter = (byte)(s.Counter + 1), EdgePending = true }, p, CountWrite, left), "write the eventfd");
                break;
            case CountWrite:
                step = (With(s with { Writes = (byte)(s.Writes + 1) }, p, RearmFd, left), "count the write");
                break;
            case RearmFd:
                step = (With(s with { PollArmed = true }, p, Publish, left), "rearm");
                break;
            default:
                return;
        }

        into.Add((step.Item1, p == 0 ? "P0: " + step.Item2 : "P1: " + step.Item2));
    }

    private static S With(S s, int p, byte pc, byte left) => p == 0 ? s with { P0 = pc, P0Left = left } : s with { P1 = pc, P1Left = left };

    private static Result Fail(Dictionary<S, (S From, string Step)> parent, S end, string problem, Protocol protocol, WakeRule rule, int transitions)
    {
        var steps = new List<string>();
        for (S s = end; parent[s].Step != "start"; s = parent[s].From)
        {
            steps.Add(parent[s].Step);
        }

        steps.Reverse();
        var text = new StringBuilder($"{protocol}/{rule}: {problem}. Shortest trace ({steps.Count} steps):");
        foreach (string step in steps)
        {
            text.Append("\n  ").Append(step);
        }

        return new Result(parent.Count, transitions, text.ToString(), $"{protocol}/{rule}: violation after {parent.Count} states");
    }
}
