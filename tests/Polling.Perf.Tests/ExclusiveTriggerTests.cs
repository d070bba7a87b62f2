using System.Diagnostics;
using System.Net;
using Polling.Net;
using Xunit;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Perf.Tests;

/// <summary><see cref="Trigger.Exclusive"/>: EPOLLEXCLUSIVE for one listener shared by several loops.</summary>
public class ExclusiveTriggerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static TheoryData<PollBackend> Backends => new() { PollBackend.Epoll, PollBackend.Poll };

    [Theory]
    [InlineData(Trigger.Edge | Trigger.Exclusive | Trigger.Oneshot, Interest.Readable)]
    [InlineData(Trigger.Level | Trigger.Exclusive | Trigger.Oneshot, Interest.Readable)]
    [InlineData(Trigger.Level | Trigger.Exclusive, Interest.Readable | Interest.Priority)]
    [InlineData(Trigger.Exclusive, Interest.Readable)]
    public void Invalid_combinations_are_refused_and_nothing_is_registered(Trigger trigger, Interest interest)
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var ex = Assert.Throws<ArgumentException>(() => poll.Registry.Register(listener, (Token)1, interest, trigger));
        Assert.Equal("trigger", ex.ParamName);
        poll.Registry.Register(listener, (Token)1, Interest.Readable, Trigger.Level);   // still unregistered: this works
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Reregister_with_Exclusive_is_refused_and_the_registration_is_unchanged(PollBackend backend)
    {
        using var poll = new Poll(backend);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        poll.Registry.Register(listener, (Token)1, Interest.Readable, Trigger.Level);
        var ex = Assert.Throws<ArgumentException>(() => poll.Registry.Reregister(listener, (Token)2, Interest.Readable, Trigger.Level | Trigger.Exclusive));
        Assert.Contains("Deregister", ex.Message);

        using TcpStream client = TcpStream.Connect(listener.LocalEndPoint);
        Assert.Equal((Token)1, WaitForAny([poll]).Token);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void One_listener_in_two_Polls_wakes_a_loop_for_every_connection_and_each_is_accepted_once(PollBackend backend)
    {
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var first = new Poll(backend);
        using var second = new Poll(backend);
        int fd = (int)listener.Handle.DangerousGetHandle();
        first.Registry.Register(new SourceFd(fd), (Token)1, Interest.Readable, Trigger.Level | Trigger.Exclusive);
        second.Registry.Register(new SourceFd(fd), (Token)2, Interest.Readable, Trigger.Level | Trigger.Exclusive);

        var clients = new List<TcpStream>();
        var accepted = new List<TcpStream>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                clients.Add(TcpStream.Connect(listener.LocalEndPoint));
                var clock = Stopwatch.StartNew();
                while (accepted.Count <= i)
                {
                    Assert.True(clock.Elapsed < Deadline, $"connection {i} ({backend}): no Poll was woken for it");
                    WaitForAny([first, second]);
                    while (listener.TryAccept(out TcpStream? stream))
                    {
                        accepted.Add(stream);
                    }
                }
            }

            Assert.Equal(20, accepted.Count);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            accepted.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void On_epoll_an_exclusive_registration_cannot_be_modified_and_stays_as_it_was()
    {
        using var poll = new Poll(PollBackend.Epoll);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        poll.Registry.Register(listener, (Token)1, Interest.Readable, Trigger.Edge | Trigger.Exclusive);
        Exception ex = Assert.ThrowsAny<Exception>(() => poll.Registry.Reregister(listener, (Token)2, Interest.Readable, Trigger.Level));
        Assert.True(ex is IOException or System.Net.Sockets.SocketException, $"an OS failure, got {ex.GetType()}");

        using TcpStream client = TcpStream.Connect(listener.LocalEndPoint);
        Assert.Equal((Token)1, WaitForAny([poll]).Token);
        Assert.True(listener.TryAccept(out TcpStream? server));
        server.Dispose();
    }

    private static Event WaitForAny(Poll[] polls)
    {
        var events = new Events(4);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            foreach (Poll poll in polls)
            {
                if (poll.Wait(events, TimeSpan.FromMilliseconds(20)) > 0)
                {
                    return events[0];
                }
            }
        }

        throw new TimeoutException("no Poll reported the listener within the deadline");
    }
}
