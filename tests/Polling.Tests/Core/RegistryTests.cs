using Polling.Os;

namespace Polling.Tests.Core;

public class RegistryTests : IDisposable
{
    private readonly Poll _poll = new();
    private readonly FdHandle _eventFd = TestFds.EventFd();
    private readonly Events _events = new(16);

    public void Dispose()
    {
        _poll.Dispose();
        _eventFd.Dispose();
    }

    private SourceFd Source => new(_eventFd.Fd);

    private int WaitNow() => _poll.Wait(_events, TimeSpan.Zero);

    [Fact]
    public void Null_source_is_rejected()
    {
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => _poll.Registry.Register(null!, (Token)1, Interest.Readable)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => _poll.Registry.Reregister(null!, (Token)1, Interest.Readable)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => _poll.Registry.Deregister(null!)).ParamName);
    }

    [Fact]
    public void Null_registry_is_rejected_by_sources()
    {
        Assert.Throws<ArgumentNullException>(() => Source.Register(null!, (Token)1, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentNullException>(() => Source.Reregister(null!, (Token)1, Interest.Readable, Trigger.Edge));
        Assert.Throws<ArgumentNullException>(() => Source.Deregister(null!));
        Assert.Throws<ArgumentNullException>(() => new Waker(null!, (Token)1));
    }

    [Theory]
    [InlineData((Interest)0)]
    [InlineData((Interest)8)]
    [InlineData(Interest.Readable | (Interest)16)]
    public void Invalid_interest_is_rejected_and_nothing_is_registered(Interest interest)
    {
        var ex = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(Source, (Token)1, interest));
        Assert.Equal("interest", ex.ParamName);
        Assert.Contains("Readable, Writable, Priority", ex.Message);
        AssertNotRegistered();
    }

    [Theory]
    [InlineData((Trigger)0)]
    [InlineData(Trigger.Oneshot)]
    [InlineData(Trigger.Edge | Trigger.Level)]
    [InlineData(Trigger.Edge | Trigger.Level | Trigger.Oneshot)]
    [InlineData((Trigger)8)]
    public void Invalid_trigger_is_rejected_and_nothing_is_registered(Trigger trigger)
    {
        var ex = Assert.Throws<ArgumentException>(() => _poll.Registry.Register(Source, (Token)1, Interest.Readable, trigger));
        Assert.Equal("trigger", ex.ParamName);
        Assert.Contains("exactly one of Edge or Level", ex.Message);
        AssertNotRegistered();
    }

    [Fact]
    public void Invalid_arguments_to_Reregister_leave_the_registration_unchanged()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Readable, Trigger.Level);

        Assert.Throws<ArgumentException>(() => _poll.Registry.Reregister(Source, (Token)2, (Interest)0));
        Assert.Throws<ArgumentException>(() => _poll.Registry.Reregister(Source, (Token)2, Interest.Readable, Trigger.Edge | Trigger.Level));

        TestFds.Signal(_eventFd);
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)1, _events[0].Token);
    }

    [Fact]
    public void Registering_twice_throws_InvalidOperationException_naming_the_source_and_keeps_the_first_registration()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Readable, Trigger.Level);

        var ex = Assert.Throws<InvalidOperationException>(() => _poll.Registry.Register(Source, (Token)2, Interest.Readable));
        Assert.Contains($"fd {_eventFd.Fd}", ex.Message);
        Assert.Contains("already registered", ex.Message);
        Assert.Contains("Reregister", ex.Message);

        TestFds.Signal(_eventFd);
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)1, _events[0].Token);
    }

    [Fact]
    public void Reregistering_or_deregistering_an_unregistered_source_throws_InvalidOperationException()
    {
        var re = Assert.Throws<InvalidOperationException>(() => _poll.Registry.Reregister(Source, (Token)1, Interest.Readable));
        Assert.Contains("not registered", re.Message);
        Assert.Contains("Register it first", re.Message);
        var de = Assert.Throws<InvalidOperationException>(() => _poll.Registry.Deregister(Source));
        Assert.Contains("not registered", de.Message);

        // Still registrable afterwards.
        _poll.Registry.Register(Source, (Token)1, Interest.Readable);
    }

    [Fact]
    public void Deregistered_source_produces_no_events_and_can_be_registered_again()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Readable, Trigger.Level);
        _poll.Registry.Deregister(Source);
        TestFds.Signal(_eventFd);
        Assert.Equal(0, WaitNow());

        _poll.Registry.Register(Source, (Token)3, Interest.Readable, Trigger.Level);
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)3, _events[0].Token);
    }

    [Fact]
    public void Level_reports_while_ready_and_Edge_once_per_arrival()
    {
        using var edgeFd = TestFds.EventFd();
        _poll.Registry.Register(Source, (Token)1, Interest.Readable, Trigger.Level);
        _poll.Registry.Register(new SourceFd(edgeFd.Fd), (Token)2, Interest.Readable, Trigger.Edge);
        TestFds.Signal(_eventFd);
        TestFds.Signal(edgeFd);

        Assert.Equal(2, WaitNow());
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)1, _events[0].Token);

        TestFds.Signal(edgeFd); // new readiness after the first edge: reported again
        Assert.Equal(2, WaitNow());
    }

    [Fact]
    public void Oneshot_reports_once_until_Reregister_rearms_it()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Readable, Trigger.Level | Trigger.Oneshot);
        TestFds.Signal(_eventFd);
        Assert.Equal(1, WaitNow());
        Assert.Equal(0, WaitNow());
        TestFds.Signal(_eventFd);
        Assert.Equal(0, WaitNow());

        _poll.Registry.Reregister(Source, (Token)4, Interest.Readable, Trigger.Edge | Trigger.Oneshot);
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)4, _events[0].Token);
        Assert.Equal(0, WaitNow());
    }

    [Fact]
    public void Reregister_changes_token_and_interest_on_the_next_wait()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Writable, Trigger.Level);
        Assert.Equal(1, WaitNow());
        Assert.True(_events[0].IsWritable);

        _poll.Registry.Reregister(Source, (Token)2, Interest.Readable, Trigger.Level);
        Assert.Equal(0, WaitNow()); // counter is 0: not readable
        TestFds.Signal(_eventFd);
        Assert.Equal(1, WaitNow());
        Assert.Equal((Token)2, _events[0].Token);
        Assert.True(_events[0].IsReadable);
        Assert.False(_events[0].IsWritable);
    }

    [Fact]
    public void Registry_calls_after_Poll_Dispose_throw_ObjectDisposedException()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Readable);
        _poll.Dispose();

        Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Register(new SourceFd(0), (Token)1, Interest.Readable));
        Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Reregister(Source, (Token)1, Interest.Readable));
        var ex = Assert.Throws<ObjectDisposedException>(() => _poll.Registry.Deregister(Source));
        Assert.Contains("create a new Poll", ex.Message);
        Assert.Throws<ObjectDisposedException>(() => new Waker(_poll.Registry, (Token)1));
    }

    [Fact]
    public void Closed_descriptor_is_reported_as_IOException_with_the_errno()
    {
        var fd = TestFds.EventFd();
        int number = fd.Fd;
        fd.Dispose();

        var ex = Assert.Throws<IOException>(() => _poll.Registry.Register(new SourceFd(number), (Token)1, Interest.Readable));
        Assert.Equal(Errno.EBADF, ex.HResult);
        Assert.Contains("not open", ex.Message);
    }

    [Fact]
    public void A_regular_file_cannot_be_polled_and_says_why()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = File.OpenHandle(path);
            var ex = Assert.Throws<IOException>(() => _poll.Registry.Register(new SourceFd((int)file.DangerousGetHandle()), (Token)1, Interest.Readable));
            Assert.Equal(Errno.EPERM, ex.HResult);
            Assert.Contains("regular files", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SourceFd_rejects_negative_descriptors_and_describes_itself()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceFd(-1));
        Assert.Equal(5, new SourceFd(5).Fd);
        Assert.Equal("SourceFd(fd 5)", new SourceFd(5).ToString());
    }

    [Fact]
    public void Tokens_round_trip_every_64_bit_value()
    {
        foreach (ulong value in new[] { 0UL, 1UL, 42UL, uint.MaxValue, 1UL << 32, 1UL << 63, ulong.MaxValue - 1, ulong.MaxValue })
        {
            _poll.Registry.Register(Source, (Token)value, Interest.Writable, Trigger.Level);
            Assert.Equal(1, WaitNow());
            Assert.Equal(value, (ulong)_events[0].Token);
            _poll.Registry.Deregister(Source);
        }
    }

    [Fact]
    public void Priority_interest_is_accepted()
    {
        _poll.Registry.Register(Source, (Token)1, Interest.Priority | Interest.Readable, Trigger.Level);
        TestFds.Signal(_eventFd);
        Assert.Equal(1, WaitNow());
        Assert.False(_events[0].IsPriority);
    }

    private void AssertNotRegistered() =>
        Assert.Throws<InvalidOperationException>(() => _poll.Registry.Deregister(Source));
}
