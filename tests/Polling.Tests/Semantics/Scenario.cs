using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Polling.Tests.Semantics;

/// <summary>Which triggers a property's scenarios register with.</summary>
public enum TriggerFamily
{
    /// <summary>Only <see cref="Trigger.Edge"/>.</summary>
    Edge,

    /// <summary>Only <see cref="Trigger.Level"/>.</summary>
    Level,

    /// <summary><c>Edge | Oneshot</c> and <c>Level | Oneshot</c>.</summary>
    Oneshot,

    /// <summary>All four, so that reregistering switches between them.</summary>
    Mixed,
}

/// <summary>
/// One generated test case: the sources (by kind), the capacity of the <see cref="Events"/> batch and
/// the operation sequence. Prints as a numbered script, which is what a shrunk counterexample shows.
/// </summary>
public sealed record Scenario(SourceKind[] Sources, int Capacity, Op[] Ops)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("Scenario: ")
            .Append(string.Join(", ", Sources.Select((kind, i) => $"s{i}={kind}")))
            .Append($"; Events capacity {Capacity}; {Ops.Length} operations");
        for (int i = 0; i < Ops.Length; i++)
        {
            text.Append($"\n  {i + 1,3}. {Ops[i]}");
        }

        return text.ToString();
    }
}

/// <summary>FsCheck generators and the shrinker for <see cref="Scenario"/>.</summary>
public static class Scenarios
{
    private static readonly SourceKind[] AllKinds = Enum.GetValues<SourceKind>();

    private static readonly ulong[] EdgeTokens =
    [
        0, 1, 2, 42, (ulong)uint.MaxValue, (ulong)uint.MaxValue + 1, (ulong)long.MaxValue,
        1UL << 63, (1UL << 63) + 1, ulong.MaxValue - 1, ulong.MaxValue,
    ];

    /// <summary>Scenarios whose registrations use <paramref name="family"/>'s triggers.</summary>
    public static Arbitrary<Scenario> Arbitrary(TriggerFamily family, SourceKind[]? kinds = null) =>
        Arb.From(Generator(family, kinds ?? AllKinds), Shrink);

    /// <summary>
    /// The generator, optionally without <see cref="ConcurrentPeerWrites"/>: the differential property compares two
    /// runs wait by wait, and how many messages the loop takes while producers race it differs from run to run.
    /// </summary>
    public static Gen<Scenario> Generator(TriggerFamily family, SourceKind[] kinds, bool concurrent) =>
        concurrent ? Generator(family, kinds) : Generator(family, kinds).Select(s => s with { Ops = [.. s.Ops.Where(op => op is not ConcurrentPeerWrites)] });

    /// <summary>The generator: 1–3 sources, each registered first, then up to ~60 random operations.</summary>
    public static Gen<Scenario> Generator(TriggerFamily family, SourceKind[] kinds) =>
        from count in Gen.Choose(1, 3)
        from sources in Gen.ArrayOf(Gen.Elements(kinds), count)
        from capacity in Gen.Frequency((1, Gen.Constant(1)), (1, Gen.Constant(2)), (4, Gen.Constant(16)))
        from registers in Gen.CollectToArray(Enumerable.Range(0, count), i => RegisterGen(i, sources[i], family))
        from length in Gen.Sized(size => Gen.Choose(1, Math.Max(1, size)))
        from ops in Gen.ArrayOf(OpGen(sources, family), length)
        select new Scenario(sources, capacity, [.. registers, .. ops]);

    /// <summary>Any 64-bit token, biased towards the edge values (0, 2^32, 2^63, 2^64-1, ...).</summary>
    public static Gen<ulong> TokenGen() =>
        Gen.Frequency(
            (2, Gen.Elements(EdgeTokens)),
            (3, from high in Gen.Choose(int.MinValue, int.MaxValue)
                from low in Gen.Choose(int.MinValue, int.MaxValue)
                select ((ulong)(uint)high << 32) | (uint)low));

    /// <summary>
    /// Shrinks by removing chunks of operations, then single operations, then whole sources (with their
    /// operations), then by raising the capacity to 16 and halving byte counts.
    /// </summary>
    public static IEnumerable<Scenario> Shrink(Scenario scenario)
    {
        Op[] ops = scenario.Ops;
        for (int chunk = ops.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Length; start += chunk)
            {
                yield return scenario with { Ops = [.. ops[..start], .. ops[(start + chunk)..]] };
            }
        }

        if (scenario.Sources.Length > 1)
        {
            for (int removed = 0; removed < scenario.Sources.Length; removed++)
            {
                int gone = removed;
                yield return new Scenario(
                    [.. scenario.Sources.Where((_, i) => i != gone)],
                    scenario.Capacity,
                    [.. ops.Where(op => op.Source != gone).Select(op => op.Source > gone ? op.WithSource(op.Source - 1) : op)]);
            }
        }

        if (scenario.Capacity != 16)
        {
            yield return scenario with { Capacity = 16 };
        }

        for (int i = 0; i < ops.Length; i++)
        {
            Op? smaller = ops[i] switch
            {
                PeerWrite { Bytes: > 1 } w => w with { Bytes = w.Bytes / 2 },
                ConcurrentPeerWrites { Messages: > 1 } c => c with { Messages = c.Messages / 2 },
                Read { Bytes: > 1 } r => r with { Bytes = r.Bytes / 2 },
                PeerRead { Bytes: > 1 } r => r with { Bytes = r.Bytes / 2 },
                Wait { Milliseconds: > 0 } => new Wait(0),
                _ => null,
            };
            if (smaller is not null)
            {
                Op[] copy = [.. ops];
                copy[i] = smaller;
                yield return scenario with { Ops = copy };
            }
        }
    }

    /// <summary>A registration; a waker is always Readable and Edge (that is what <c>new Waker</c> does), whatever the family.</summary>
    private static Gen<Op> RegisterGen(int source, SourceKind kind, TriggerFamily family) =>
        from token in TokenGen()
        from interest in Gen.Elements(Interests(kind))
        from trigger in kind == SourceKind.Waker ? Gen.Constant(Trigger.Edge) : Gen.Elements(Triggers(family))
        select (Op)new Register(source, token, interest, trigger);

    private static Gen<Op> OpGen(SourceKind[] sources, TriggerFamily family) =>
        from source in Gen.Choose(0, sources.Length - 1)
        from op in Gen.Frequency(Choices(source, sources[source], family))
        select op;

    /// <summary>The operations that make sense for a kind, with weights (waits are frequent).</summary>
    private static IEnumerable<(int, Gen<Op>)> Choices(int s, SourceKind kind, TriggerFamily family)
    {
        bool stream = kind is SourceKind.TcpStream or SourceKind.UnixStream;
        yield return (6, Gen.Constant<Op>(new Wait(0)));
        yield return (2, Gen.Elements<Op>(new Wait(1), new Wait(2)));
        if (kind != SourceKind.PipeWriter)
        {
            yield return (8, Gen.Choose(1, 3000).Select(n => (Op)new PeerWrite(s, n)));
        }

        if (kind is not (SourceKind.PipeWriter or SourceKind.Waker))
        {
            yield return (3, Gen.Choose(1, 2000).Select(n => (Op)new Read(s, n)));
            yield return (5, Gen.Constant<Op>(new Drain(s)));
        }

        if (stream || kind is SourceKind.PipeWriter or SourceKind.EventFd or SourceKind.RawEventFd)
        {
            yield return (3, Gen.Constant<Op>(new Fill(s)));
        }

        if (stream || kind == SourceKind.PipeWriter)
        {
            yield return (2, Gen.Choose(1, 8000).Select(n => (Op)new PeerRead(s, n)));
            yield return (3, Gen.Constant<Op>(new PeerDrain(s)));
        }

        if (stream)
        {
            yield return (1, Gen.Constant<Op>(new PeerShutdown(s)));
        }

        if (stream || kind is SourceKind.PipeReader or SourceKind.PipeWriter or SourceKind.Channel)
        {
            yield return (1, Gen.Constant<Op>(new PeerClose(s)));
        }

        if (kind == SourceKind.TcpStream)
        {
            yield return (1, Gen.Constant<Op>(new PeerReset(s)));
        }

        if (stream || kind == SourceKind.Udp)
        {
            yield return (1, Gen.Constant<Op>(new TakeError(s)));
        }

        if (kind == SourceKind.Udp)
        {
            yield return (4, Gen.Constant<Op>(new IcmpError(s)));
        }

        if (kind == SourceKind.Channel)
        {
            yield return (3, from producers in Gen.Choose(2, 4)
                             from messages in Gen.Choose(1, 2000)
                             select (Op)new ConcurrentPeerWrites(s, producers, messages));
        }

        if (kind != SourceKind.Waker)
        {
            yield return (3, from token in TokenGen()
                             from interest in Gen.Elements(Interests(kind))
                             from trigger in Gen.Elements(Triggers(family))
                             select (Op)new Reregister(s, token, interest, trigger));
            yield return (1, Gen.Constant<Op>(new Deregister(s)));
            yield return (1, RegisterGen(s, kind, family));
        }

        yield return (1, Gen.Constant<Op>(new DisposeSource(s)));
    }

    private static Interest[] Interests(SourceKind kind) => kind switch
    {
        SourceKind.PipeReader => [Interest.Readable, Interest.Readable | Interest.Writable],
        SourceKind.PipeWriter => [Interest.Writable, Interest.Readable | Interest.Writable],
        SourceKind.TcpListener or SourceKind.UnixListener or SourceKind.Waker
            or SourceKind.Channel or SourceKind.Timer or SourceKind.TimerWheel => [Interest.Readable],
        _ => [Interest.Readable, Interest.Writable, Interest.Readable | Interest.Writable],
    };

    private static Trigger[] Triggers(TriggerFamily family) => family switch
    {
        TriggerFamily.Edge => [Trigger.Edge],
        TriggerFamily.Level => [Trigger.Level],
        TriggerFamily.Oneshot => [Trigger.Edge | Trigger.Oneshot, Trigger.Level | Trigger.Oneshot],
        _ => [Trigger.Edge, Trigger.Level, Trigger.Edge | Trigger.Oneshot, Trigger.Level | Trigger.Oneshot],
    };
}
