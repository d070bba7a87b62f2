using System.Diagnostics;
using System.Threading.Channels;
using Xunit.Abstractions;

namespace Polling.Tests.Sources;

/// <summary>
/// Several producers racing a loop, in quiescent rounds: all producers finish, then every message must
/// arrive through an event. Once every producer has returned from its last <c>TryWrite</c>, all eventfd writes
/// have happened, so a <c>Wait</c> that then reports nothing while a message is still in the channel is a lost
/// wake-up — not a slow machine. Issue 9's reproduction (3 x 30,000, occasional Yield/Sleep(1), 2 s waits).
/// Set POLLING_STRESS=1 for 20 times as many rounds.
/// </summary>
public sealed class ChannelSourceStressTests(ITestOutputHelper output)
{
    private const Token Channel = (Token)3;
    private const int Producers = 3;
    private const int PerProducer = 30_000;

    private static int Rounds => Environment.GetEnvironmentVariable("POLLING_STRESS") == "1" ? 40 : 2;

    public static TheoryData<PollBackend, Trigger, bool> Cases()
    {
        var data = new TheoryData<PollBackend, Trigger, bool>();
        foreach (PollBackend backend in new[] { PollBackend.Epoll, PollBackend.Poll })
        {
            foreach (Trigger trigger in new[] { Trigger.Edge, Trigger.Level })
            {
                data.Add(backend, trigger, false);
                data.Add(backend, trigger, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThreeProducers_quiescent_rounds_every_message_arrives_through_an_event(PollBackend backend, Trigger trigger, bool bounded)
    {
        using var poll = new Poll(backend);
        using ChannelSource<long> source = bounded ? ChannelSource.CreateBounded<long>(256) : ChannelSource.CreateUnbounded<long>();
        poll.Registry.Register(source, Channel, Interest.Readable, trigger);
        var events = new Events(8);
        var clock = Stopwatch.StartNew();
        long received = 0;
        int wakeups = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var next = new long[Producers];
            int done = 0;
            var threads = new Thread[Producers];
            for (int p = 0; p < Producers; p++)
            {
                long producer = p;
                threads[p] = new Thread(() =>
                {
                    var random = new Random((int)producer * 7919 + round);
                    for (long seq = 0; seq < PerProducer; seq++)
                    {
                        long message = (producer << 32) | seq;
                        while (!source.Writer.TryWrite(message))
                        {
                            Thread.Yield(); // bounded and full: the loop is behind
                        }

                        int dice = random.Next(1000);
                        if (dice < 20)
                        {
                            Thread.Yield();
                        }
                        else if (dice == 20)
                        {
                            Thread.Sleep(1);
                        }
                    }

                    Interlocked.Increment(ref done);
                })
                { IsBackground = true };
                threads[p].Start();
            }

            long inRound = 0;
            var random = new Random(round);
            var stalledSince = Stopwatch.StartNew();
            while (inRound < Producers * PerProducer)
            {
                bool quiescent = Volatile.Read(ref done) == Producers;
                poll.Wait(events, TimeSpan.FromSeconds(2));
                if (events.IsEmpty)
                {
                    if (quiescent)
                    {
                        // Every producer had returned before this wait began: nothing can still be on its way.
                        bool stranded = source.TryRead(out long item);
                        Assert.Fail($"lost wake-up ({backend}, {trigger}, {(bounded ? "bounded" : "unbounded")}): round {round}, " +
                            $"{inRound} of {Producers * PerProducer} messages received, producers done, a 2 s wait reported nothing" +
                            (stranded ? $" while the channel still held message {item >> 32}:{item & 0xFFFF_FFFF}" : ""));
                    }

                    if (stalledSince.Elapsed > Loop.Patience)
                    {
                        // Producers are stuck on a full bounded channel that the loop is never told about.
                        Assert.Fail($"lost wake-up ({backend}, {trigger}, {(bounded ? "bounded" : "unbounded")}): round {round}, " +
                            $"no event for {Loop.Patience.TotalSeconds} s with {inRound} of {Producers * PerProducer} messages received and producers not done");
                    }

                    continue;
                }

                stalledSince.Restart();
                wakeups++;
                // Edge: drain until TryRead says empty. Level: sometimes leave messages behind; the next wait must report them.
                int budget = trigger == Trigger.Level ? random.Next(1, 64) : int.MaxValue;
                while (budget-- > 0 && source.TryRead(out long message))
                {
                    int producer = (int)(message >> 32);
                    Assert.Equal(next[producer], message & 0xFFFF_FFFF);
                    next[producer]++;
                    inRound++;
                }
            }

            foreach (Thread thread in threads)
            {
                Assert.True(thread.Join(Loop.Patience), "a producer did not finish");
            }

            Assert.False(source.TryRead(out _), "no duplicates or extra messages");
            received += inRound;
        }

        output.WriteLine($"{backend}/{trigger}/{(bounded ? "bounded 256" : "unbounded")}: {Rounds} rounds, {received} messages, " +
            $"{wakeups} wake-ups, {source.NotificationCount} eventfd writes, {clock.ElapsedMilliseconds} ms");
    }
}
