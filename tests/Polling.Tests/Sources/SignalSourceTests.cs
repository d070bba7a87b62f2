using System.Runtime.InteropServices;
using Tmds.Linux;
using Xunit;

namespace Polling.Tests.Sources;

/// <summary>
/// Signals are process-wide, so these tests run alone (no other test runs meanwhile), and only ever send
/// SIGUSR1, SIGUSR2 or SIGHUP while some source is registered to catch them — uncaught, they would end the
/// test host. SIGINT and SIGTERM are exercised on a child process by the WorkerOffload sample test.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed class SignalSourceTests : IDisposable
{
    private const Token Signals = (Token)1;
    private const PosixSignal SIGUSR1 = (PosixSignal)10;
    private const PosixSignal SIGUSR2 = (PosixSignal)12;
    private readonly Poll _poll = new();
    private readonly Events _events = new(16);

    public void Dispose() => _poll.Dispose();

    private static void Raise(PosixSignal signal)
    {
        int number = signal == PosixSignal.SIGHUP ? LibC.SIGHUP : (int)signal;
        Assert.Equal(0, LibC.kill(LibC.getpid(), number));
    }

    private static List<PosixSignal> Drain(SignalSource source)
    {
        var signals = new List<PosixSignal>();
        while (source.TryRead(out PosixSignal signal))
        {
            signals.Add(signal);
        }

        return signals;
    }

    [Fact]
    public void RawSignalNumber_sent_to_our_own_process_arrives_through_the_loop()
    {
        using var source = new SignalSource(SIGUSR1);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        Raise(SIGUSR1);
        Loop.AssertEvent(_poll, _events, Signals, "SIGUSR1 was sent to this process");
        Assert.Equal([SIGUSR1], Drain(source));
        Loop.AssertSilent(_poll, _events, Signals, "edge: drained");
    }

    [Fact]
    public void ASignalGivenByNameAndByNumber_is_caught_once_and_reported_once_per_delivery()
    {
        // SIGWINCH (28) is ignored by default, so a stray delivery cannot end the test host.
        using var source = new SignalSource(PosixSignal.SIGWINCH, (PosixSignal)28);
        Assert.Equal([PosixSignal.SIGWINCH], source.Signals);
        using (var reversed = new SignalSource((PosixSignal)28, PosixSignal.SIGWINCH, (PosixSignal)28))
        {
            Assert.Equal([(PosixSignal)28], reversed.Signals);
        }

        _poll.Registry.Register(source, Signals, Interest.Readable);
        Assert.Equal(0, LibC.kill(LibC.getpid(), 28));
        Loop.AssertEvent(_poll, _events, Signals, "SIGWINCH was sent to this process");
        var seen = Drain(source);
        // A second handler for the same signal would count the delivery again, shortly after: watch for it.
        Loop.WaitFor(_poll, _events, Signals, Loop.Quiet);
        seen.AddRange(Drain(source));
        Assert.Equal([PosixSignal.SIGWINCH], seen);
    }

    [Fact]
    public void NamedSignal_arrives_as_the_named_value()
    {
        using var source = new SignalSource(PosixSignal.SIGHUP);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        Raise(PosixSignal.SIGHUP);
        Loop.AssertEvent(_poll, _events, Signals, "SIGHUP was sent to this process");
        Assert.Equal([PosixSignal.SIGHUP], Drain(source));
    }

    [Fact]
    public void SeveralSignals_on_one_source_are_each_reported()
    {
        using var source = new SignalSource(SIGUSR1, SIGUSR2, SIGUSR1);
        Assert.Equal([SIGUSR1, SIGUSR2], source.Signals);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        Raise(SIGUSR1);
        Raise(SIGUSR2);
        var seen = new List<PosixSignal>();
        while (seen.Count < 2)
        {
            Loop.AssertEvent(_poll, _events, Signals, $"two signals were sent, {seen.Count} seen");
            seen.AddRange(Drain(source));
        }

        Assert.Equal([SIGUSR1, SIGUSR2], seen.Order());
    }

    [Fact]
    public void TwoSources_for_one_signal_both_receive_it()
    {
        using var first = new SignalSource(SIGUSR2);
        using var second = new SignalSource(SIGUSR2);
        using var otherPoll = new Poll();
        var otherEvents = new Events(4);
        _poll.Registry.Register(first, Signals, Interest.Readable);
        otherPoll.Registry.Register(second, (Token)2, Interest.Readable);
        Raise(SIGUSR2);
        Loop.AssertEvent(_poll, _events, Signals, "first source");
        Loop.AssertEvent(otherPoll, otherEvents, (Token)2, "second source");
        Assert.Equal([SIGUSR2], Drain(first));
        Assert.Equal([SIGUSR2], Drain(second));
    }

    [Fact]
    public void Level_reports_until_read_oneshot_until_reregistered()
    {
        using var source = new SignalSource(SIGUSR1);
        _poll.Registry.Register(source, Signals, Interest.Readable, Trigger.Level);
        Raise(SIGUSR1);
        Loop.AssertEvent(_poll, _events, Signals, "sent");
        Assert.True(Loop.ReportsNow(_poll, _events, Signals), "level: unread");
        Assert.Equal([SIGUSR1], Drain(source));
        Assert.False(Loop.ReportsNow(_poll, _events, Signals), "level: read");

        _poll.Registry.Reregister(source, Signals, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Raise(SIGUSR1);
        Loop.AssertEvent(_poll, _events, Signals, "oneshot");
        Assert.False(Loop.ReportsNow(_poll, _events, Signals), "oneshot: once");
        _poll.Registry.Reregister(source, Signals, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Assert.True(Loop.ReportsNow(_poll, _events, Signals), "reregister re-evaluates: still unread");
        Assert.Equal([SIGUSR1], Drain(source));
    }

    [Fact]
    public void Deregistered_ignores_signals_while_another_listener_catches_them()
    {
        // The guard keeps the process alive: an unregistered source leaves a signal to its default action.
        using var guard = new SignalSource(SIGUSR1);
        using var guardPoll = new Poll();
        var guardEvents = new Events(4);
        guardPoll.Registry.Register(guard, (Token)9, Interest.Readable);

        using var source = new SignalSource(SIGUSR1);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        _poll.Registry.Deregister(source);
        Raise(SIGUSR1);
        Loop.AssertEvent(guardPoll, guardEvents, (Token)9, "the guard caught it");
        Loop.AssertSilent(_poll, _events, Signals, "deregistered");
        _poll.Registry.Register(source, Signals, Interest.Readable);
        Loop.AssertSilent(_poll, _events, Signals, "a signal that came while nobody listened is not recorded");
        Assert.Empty(Drain(source));
        Assert.Equal([SIGUSR1], Drain(guard));
    }

    [Fact]
    public void Disposed_produces_no_events_and_throws_on_use()
    {
        using var guard = new SignalSource(SIGUSR2);
        using var guardPoll = new Poll();
        var guardEvents = new Events(4);
        guardPoll.Registry.Register(guard, (Token)9, Interest.Readable);

        var source = new SignalSource(SIGUSR2);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        source.Dispose();
        source.Dispose();
        Raise(SIGUSR2);
        Loop.AssertEvent(guardPoll, guardEvents, (Token)9, "the guard caught it");
        Loop.AssertSilent(_poll, _events, Signals, "disposed");
        Assert.Contains("disposed", Assert.Throws<ObjectDisposedException>(() => source.TryRead(out _)).Message);
        Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Register(source, Signals, Interest.Readable));
    }

    [Fact]
    public void Misuse_throws_clearly()
    {
        var empty = Assert.Throws<ArgumentException>(() => new SignalSource());
        Assert.Equal("signals", empty.ParamName);

        var kill = Assert.Throws<ArgumentException>(() => new SignalSource(SIGUSR1, (PosixSignal)9));
        Assert.Equal("signals", kill.ParamName);
        Assert.Contains("cannot be caught", kill.Message);
        Assert.Contains("SIGKILL", kill.Message);
        Assert.Contains("cannot be caught", Assert.Throws<ArgumentException>(() => new SignalSource((PosixSignal)200)).Message);

        using var source = new SignalSource(SIGUSR1);
        var interest = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(source, Signals, Interest.Writable));
        Assert.Contains("Interest.Readable", interest.Message);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        Assert.Contains("already registered", Assert.Throws<InvalidOperationException>(() => _poll.Registry.Register(source, Signals, Interest.Readable)).Message);
        Assert.Equal("SignalSource(10)", source.ToString());
    }

    [Fact]
    public void TryRead_with_nothing_pending_allocates_nothing()
    {
        using var source = new SignalSource(SIGUSR1);
        _poll.Registry.Register(source, Signals, Interest.Readable);
        source.TryRead(out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            source.TryRead(out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>Runs the signal tests alone: a signal goes to the whole process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SignalCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Process signals";
}
