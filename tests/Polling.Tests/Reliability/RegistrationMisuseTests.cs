using System.Net.Sockets;
using Polling.Net;
using Polling.Tests.Semantics;

namespace Polling.Tests.Reliability;

/// <summary>
/// docs/design.md's registration rules, once, for every source kind the readiness properties drive (plus
/// UnixDatagram, which they do not): registering twice or with a second Poll, re-/deregistering an
/// unregistered source, a disposed source, a null registry, a bad Interest or Trigger — each throws the documented
/// exception with a message that names the source and says what to do, and leaves the registration as it was.
/// (This replaces five copies of the same tests, one per source type.)
/// </summary>
public sealed class RegistrationMisuseTests
{
    private const Token First = (Token)1;
    private const Token Second = (Token)2;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>A source under test, its type's name as messages spell it, and how to make it ready (null: it is ready).</summary>
    private sealed record Case(ISource Source, IDisposable Owner, Interest Interest, Action? MakeReady, string Name) : IDisposable
    {
        public void Dispose() => Owner.Dispose();
    }

    public static TheoryData<string> Kinds()
    {
        var kinds = new TheoryData<string>();
        foreach (SourceKind kind in Enum.GetValues<SourceKind>())
        {
            if (kind is not (SourceKind.Waker or SourceKind.EventFd or SourceKind.RawEventFd))
            {
                kinds.Add(kind.ToString());   // the waker registers in its constructor; the eventfd sources are the harness's own
            }
        }

        kinds.Add("UnixDatagram");
        return kinds;
    }

    private static Case Make(string kind)
    {
        switch (kind)
        {
            case "UnixDatagram":
            {
                var (a, b) = UnixDatagram.Pair();
                return new Case(a, new Both(a, b), Interest.Readable, () => b.TrySend("x"u8, out _), "UnixDatagram");
            }

            default:
            {
                var sourceKind = Enum.Parse<SourceKind>(kind);
                Subject subject = Subject.Create(sourceKind);
                ISource source = subject.RegisteredSource!;
                Interest interest = sourceKind == SourceKind.PipeWriter ? Interest.Writable : Interest.Readable;
                Action? ready = sourceKind == SourceKind.PipeWriter ? null : () => subject.PeerWrite(1);
                string name = source.GetType().Name.Split('`')[0];
                return new Case(source, subject, interest, ready, name);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RegisterTwice_throws_invalid_operation_and_the_first_registration_keeps_working(string kind)
    {
        using Case c = Make(kind);
        using var poll = new Poll();
        poll.Registry.Register(c.Source, First, c.Interest, Trigger.Level);

        var error = Assert.Throws<InvalidOperationException>(() => poll.Registry.Register(c.Source, Second, c.Interest, Trigger.Level));
        Assert.Contains(c.Name, error.Message);
        Assert.Contains("already registered", error.Message);
        Assert.Contains("Reregister", error.Message);

        c.MakeReady?.Invoke();
        AssertReportedUnder(poll, First, notUnder: Second);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RegisterWithASecondPoll_throws_invalid_operation_until_deregistered(string kind)
    {
        using Case c = Make(kind);
        using var first = new Poll();
        using var second = new Poll();
        first.Registry.Register(c.Source, First, c.Interest, Trigger.Level);

        var error = Assert.Throws<InvalidOperationException>(() => second.Registry.Register(c.Source, First, c.Interest));
        Assert.Contains(c.Name, error.Message);
        Assert.Contains("another Poll", error.Message);
        Assert.Contains("Deregister", error.Message);
        Assert.Throws<InvalidOperationException>(() => second.Registry.Reregister(c.Source, First, c.Interest));
        Assert.Throws<InvalidOperationException>(() => second.Registry.Deregister(c.Source));

        c.MakeReady?.Invoke();
        AssertReportedUnder(first, First);   // the first registration still works
        first.Registry.Deregister(c.Source);
        second.Registry.Register(c.Source, Second, c.Interest, Trigger.Level);
        AssertReportedUnder(second, Second);
        Assert.Equal(0, first.Wait(new Events(4), TimeSpan.Zero));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReregisterOrDeregister_when_not_registered_throw_invalid_operation_and_leave_nothing_half_registered(string kind)
    {
        using Case c = Make(kind);
        using var poll = new Poll();
        var reregister = Assert.Throws<InvalidOperationException>(() => poll.Registry.Reregister(c.Source, First, c.Interest));
        Assert.Contains("not registered", reregister.Message);
        Assert.Contains(c.Name, reregister.Message);
        var deregister = Assert.Throws<InvalidOperationException>(() => poll.Registry.Deregister(c.Source));
        Assert.Contains("not registered", deregister.Message);

        poll.Registry.Register(c.Source, First, c.Interest, Trigger.Level);
        c.MakeReady?.Invoke();
        AssertReportedUnder(poll, First);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Disposed_register_reregister_deregister_throw_object_disposed_and_dispose_is_idempotent(string kind)
    {
        Case c = Make(kind);
        using var poll = new Poll();
        c.Dispose();
        c.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(c.Source, First, c.Interest));
        Assert.Contains(c.Name, error.Message);
        Assert.Contains("disposed", error.Message);
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Reregister(c.Source, First, c.Interest));
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Deregister(c.Source));
        Assert.Equal(0, poll.Wait(new Events(4), TimeSpan.Zero));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void NullRegistry_bad_interest_or_bad_trigger_throw_argument_exceptions_and_leave_the_source_unregistered(string kind)
    {
        using Case c = Make(kind);
        using var poll = new Poll();
        Assert.Equal("registry", Assert.Throws<ArgumentNullException>(() => c.Source.Register(null!, First, c.Interest, Trigger.Edge)).ParamName);
        Assert.Equal("registry", Assert.Throws<ArgumentNullException>(() => c.Source.Reregister(null!, First, c.Interest, Trigger.Edge)).ParamName);
        Assert.Equal("registry", Assert.Throws<ArgumentNullException>(() => c.Source.Deregister(null!)).ParamName);
        Assert.Throws<ArgumentNullException>(() => poll.Registry.Register(null!, First, c.Interest));
        foreach (Trigger bad in new[] { (Trigger)0, Trigger.Oneshot, Trigger.Edge | Trigger.Level })
        {
            var trigger = Assert.ThrowsAny<ArgumentException>(() => poll.Registry.Register(c.Source, First, c.Interest, bad));
            Assert.False(string.IsNullOrWhiteSpace(trigger.Message));
        }

        var interest = Assert.ThrowsAny<ArgumentException>(() => poll.Registry.Register(c.Source, First, (Interest)0));
        Assert.False(string.IsNullOrWhiteSpace(interest.Message));

        poll.Registry.Register(c.Source, First, c.Interest, Trigger.Level);   // nothing was left half-registered
        c.MakeReady?.Invoke();
        AssertReportedUnder(poll, First);
    }

    private static void AssertReportedUnder(Poll poll, Token token, Token? notUnder = null)
    {
        var events = new Events(16);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (notUnder is { } refused && ev.Token == refused)
                {
                    throw new Xunit.Sdk.XunitException($"an event under the refused token {(ulong)refused}");
                }

                if (ev.Token == token)
                {
                    return;
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"no event under token {(ulong)token} within {Deadline.TotalSeconds} s");
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
