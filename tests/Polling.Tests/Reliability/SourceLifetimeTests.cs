using System.Runtime.InteropServices;
using Polling.Os;
using Xunit.Abstractions;

namespace Polling.Tests.Reliability;

/// <summary>
/// Dispose really closes, and Register racing Dispose never leaks, for every source type of Polling (Waker,
/// ChannelSource, TimerSource, TimerWheel, SignalSource). Descriptors are counted with every object still alive
/// (GC.KeepAlive, no GC.Collect), so a Dispose that forgot to close cannot be rescued by a finalizer.
/// </summary>
[Collection("DescriptorCounting")]
public sealed class SourceLifetimeTests(ITestOutputHelper output)
{
    private const PosixSignal SIGWINCH = PosixSignal.SIGWINCH;

    /// <summary>A source under test: the object, its descriptor, how to register and dispose it.</summary>
    private sealed record Subject(string Name, IDisposable Source, SafeHandle Handle, Action<Registry> Register);

    private static Subject Make(string kind, Registry registry) => kind switch
    {
        "Waker" => MakeWaker(registry),
        "ChannelSource" => Registered(kind, ChannelSource.CreateUnbounded<int>(), s => s.Handle),
        "TimerSource" => Registered(kind, new TimerSource(), s => s.Handle),
        "TimerWheel" => Registered(kind, new TimerWheel(), s => s.Handle),
        "SignalSource" => Registered(kind, new SignalSource(SIGWINCH), s => s.Handle),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static Subject MakeWaker(Registry registry)
    {
        var waker = new Waker(registry, (Token)1);
        return new Subject("Waker", waker, waker.Handle, _ => { });
    }

    private static Subject Registered<T>(string kind, T source, Func<T, SafeHandle> handle)
        where T : ISource, IDisposable =>
        new(kind, source, handle(source), registry => registry.Register(source, (Token)1, Interest.Readable));

    public static TheoryData<string> Kinds() => new() { "Waker", "ChannelSource", "TimerSource", "TimerWheel", "SignalSource" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Dispose_closes_the_descriptor_counted_with_the_objects_alive(string kind)
    {
        using var poll = new Poll();
        // The runtime opens its signal-handling pipe with the first PosixSignalRegistration: not ours to count.
        Make(kind, poll.Registry).Source.Dispose();
        var before = Descriptors.Baseline();
        var subjects = new List<Subject>();
        for (int i = 0; i < 100; i++)
        {
            Subject subject = Make(kind, poll.Registry);
            subject.Register(poll.Registry);
            subjects.Add(subject);
        }

        Assert.Equal(100, Descriptors.OpenedSince(before).Count);
        foreach (Subject subject in subjects)
        {
            subject.Source.Dispose();
            Assert.True(subject.Handle.IsClosed, $"{kind}.Dispose left its descriptor open");
        }

        Descriptors.AssertNoneLeakedSince(before, subjects);
        Assert.Equal(0, poll.Wait(new Events(4), TimeSpan.Zero));
    }

    [Theory]
    [InlineData("ChannelSource", PollBackend.Epoll)]
    [InlineData("ChannelSource", PollBackend.Poll)]
    [InlineData("TimerWheel", PollBackend.Epoll)]
    [InlineData("TimerWheel", PollBackend.Poll)]
    [InlineData("TimerSource", PollBackend.Epoll)]
    [InlineData("TimerSource", PollBackend.Poll)]
    public void Register_RacingDispose_EitherSucceedsThenClosesOrThrowsObjectDisposed_AndLeaksNothing(string kind, PollBackend backend)
    {
        const int Rounds = 300;
        using var poll = new Poll(backend);
        Make(kind, poll.Registry).Source.Dispose();
        var before = Descriptors.Baseline();
        int registered = 0, refused = 0;
        var subjects = new List<Subject>(Rounds);
        for (int round = 0; round < Rounds; round++)
        {
            Subject subject = Make(kind, poll.Registry);
            subjects.Add(subject);
            using var go = new Barrier(2);
            Exception? failure = null;
            bool ok = false;
            var registering = new Thread(() =>
            {
                go.SignalAndWait();
                try
                {
                    subject.Register(poll.Registry);
                    ok = true;
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            registering.Start();
            go.SignalAndWait();
            subject.Source.Dispose();
            registering.Join();
            Assert.True(failure is null or ObjectDisposedException, $"round {round}: Register racing Dispose threw {failure}");
            Assert.True(subject.Handle.IsClosed, $"round {round}: the descriptor is open after Dispose");
            if (ok)
            {
                registered++;
            }
            else
            {
                refused++;
            }
        }

        // A registration that slipped past Dispose would show as a stale poll(2) slot or epoll entry: no events, no descriptors.
        var events = new Events(16);
        int stray = poll.Wait(events, TimeSpan.Zero);
        Assert.True(stray == 0, $"{kind}/{backend}: {stray} event(s) after every source was disposed, first token {(stray > 0 ? (ulong)events[0].Token : 0)}");
        Descriptors.AssertNoneLeakedSince(before, subjects);
        output.WriteLine($"{kind}/{backend}: {Rounds} races, {registered} registered then closed, {refused} refused with ObjectDisposedException");
    }

    [Fact]
    public void ATimerKeyFromAnotherWheel_is_refused_and_leaves_both_wheels_unchanged()
    {
        using var first = new TimerWheel();
        using var second = new TimerWheel();
        TimerKey mine = first.Schedule((Token)1, TimeSpan.FromMinutes(1));
        TimerKey theirs = second.Schedule((Token)2, TimeSpan.FromMinutes(1));
        Assert.Equal(mine.ToString(), theirs.ToString()); // same slot and generation: only the wheel tells them apart
        Assert.NotEqual(mine, theirs);

        var cancel = Assert.Throws<ArgumentException>(() => first.Cancel(theirs));
        Assert.Equal("key", cancel.ParamName);
        Assert.Contains("another TimerWheel", cancel.Message);
        Assert.Throws<ArgumentException>(() => first.Reschedule(theirs, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentException>(() => first.Contains(theirs));

        Assert.Equal(1, first.Count);
        Assert.True(first.Contains(mine));
        Assert.True(second.Contains(theirs));
        Assert.False(first.Cancel(default), "default is simply stale");
        Assert.True(second.Cancel(theirs));
    }
}
