using System.Runtime.InteropServices;

namespace Polling.Tests.Semantics;

/// <summary>A channel source: peer writes are messages (1–3 per write), the peer's close completes the channel.</summary>
internal sealed class ChannelSubject : SourceSubject<ChannelSource<int>>
{
    public ChannelSubject()
    {
        Local = ChannelSource.CreateUnbounded<int>();
    }

    public override SafeHandle? Handle => null;

    public override ulong PeerWrite(int bytes)
    {
        int messages = 1 + (bytes % 3);
        for (int i = 0; i < messages; i++)
        {
            if (!Local!.Writer.TryWrite(i))
            {
                throw new HarnessException("an unbounded channel refused a write");
            }
        }

        return (ulong)messages;
    }

    public override void PeerClose(bool expectReset) => Local!.Writer.Complete();

    /// <summary>
    /// <paramref name="producers"/> threads write <paramref name="messages"/> each while this thread drains until
    /// <c>TryRead</c> is false, again and again, until all have finished (checked before each drain, so the last
    /// "empty" may race the last writes). Returns what was written, what was read, and whether a drain ran.
    /// </summary>
    public (long Written, long Read, bool Drained) ConcurrentWrites(int producers, int messages)
    {
        long written = 0;
        int finished = 0;
        using var start = new Barrier(producers + 1);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < messages; i++)
            {
                if (Local!.Writer.TryWrite(i))
                {
                    Interlocked.Increment(ref written);
                }

                if (i % 64 == p)
                {
                    Thread.Yield();
                }
            }

            Interlocked.Increment(ref finished);
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        long read = 0;
        bool drained = false;
        while (Volatile.Read(ref finished) < producers)
        {
            while (Local!.TryRead(out _))
            {
                read++;
            }

            drained = true;
        }

        foreach (Thread thread in threads)
        {
            if (!thread.Join(SettleDeadline))
            {
                throw new HarnessException("a producer did not finish");
            }
        }

        return (Interlocked.Read(ref written), read, drained);
    }

    public override ReadOutcome Read(int max) =>
        Local!.TryRead(out _) ? new ReadOutcome(ReadStatus.Data, 1)
        : Local.IsCompleted ? new ReadOutcome(ReadStatus.EndOfStream, 0)
        : new ReadOutcome(ReadStatus.WouldBlock, 0);

    public override void Dispose() => DisposeLocal();
}

/// <summary>A timer source: a peer write arms it once, due at once, and waits until it has expired.</summary>
internal sealed class TimerSubject : SourceSubject<TimerSource>
{
    public TimerSubject()
    {
        Local = new TimerSource();
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        Local!.SetOnce(TimeSpan.Zero);
        Settle(() => (KernelProbe.Poll(Local.Handle, KernelProbe.PollIn) & KernelProbe.PollIn) != 0, "the timer expired");
        return 1;
    }

    public override ReadOutcome Read(int max) =>
        Local!.TryReadExpirations(out ulong count) ? new ReadOutcome(ReadStatus.Data, count) : new ReadOutcome(ReadStatus.WouldBlock, 0);

    public override void Dispose() => DisposeLocal();
}

/// <summary>A timer wheel: a peer write schedules a timeout due at once; a read takes one expired token.</summary>
internal sealed class TimerWheelSubject : SourceSubject<TimerWheel>
{
    private readonly Token[] _one = new Token[1];
    private ulong _next;

    public TimerWheelSubject()
    {
        Local = new TimerWheel();
    }

    public override SafeHandle? Handle => Local?.Handle;

    public override ulong PeerWrite(int bytes)
    {
        Local!.Schedule((Token)_next++, TimeSpan.Zero);
        Settle(() => (KernelProbe.Poll(Local.Handle, KernelProbe.PollIn) & KernelProbe.PollIn) != 0, "the wheel's timerfd fired");
        return 1;
    }

    public override ReadOutcome Read(int max) =>
        Local!.TakeExpired(_one) == 1 ? new ReadOutcome(ReadStatus.Data, 1) : new ReadOutcome(ReadStatus.WouldBlock, 0);

    public override void Dispose() => DisposeLocal();
}
