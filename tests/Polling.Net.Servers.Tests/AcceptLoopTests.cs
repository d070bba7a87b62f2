using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

public class AcceptLoopTests
{
    private const Token Listener = (Token)0;
    private const Token Retry = (Token)1;

    [Theory]
    [MemberData(nameof(BackendsAndTriggers), MemberType = typeof(Helpers))]
    public void Accepts_every_waiting_connection_on_each_event(PollBackend backend, Trigger trigger)
    {
        using var poll = new Poll(backend);
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry, new AcceptLoopOptions { Trigger = trigger });
        var endpoint = (IPEndPoint)accept.LocalEndPoint;
        var clients = Enumerable.Range(0, 50).Select(_ => TcpStream.Connect(endpoint)).ToList();
        var accepted = new List<TcpStream>();
        var events = new Events(16);
        DateTime end = DateTime.UtcNow + Deadline;
        try
        {
            while (accepted.Count < clients.Count)
            {
                Assert.True(DateTime.UtcNow < end, $"accepted {accepted.Count} of {clients.Count}");
                poll.Wait(events, TimeSpan.FromMilliseconds(100));
                foreach (Event ev in events)
                {
                    Assert.True(ev.Token is Listener or Retry);
                    while (accept.TryAccept(out TcpStream? stream))
                    {
                        accepted.Add(stream);
                    }
                }
            }

            Assert.Equal(50, accept.Accepted);
            Assert.Equal(0, accept.Shed);
            Assert.Equal(0, accept.Exhausted);
            Assert.False(accept.IsPaused);

            // Drained: with either trigger, no further event until a new client arrives.
            poll.Wait(events, TimeSpan.FromMilliseconds(50));
            foreach (Event ev in events)
            {
                Assert.False(accept.TryAccept(out TcpStream? _), "a spurious event may come, but nothing is waiting");
            }

            Assert.Equal(0, poll.Wait(events, TimeSpan.FromMilliseconds(50)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            accepted.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Accepts_from_a_unix_listener()
    {
        string path = Path.Combine(Path.GetTempPath(), $"blocks-accept-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var poll = new Poll();
        using var accept = new AcceptLoop(poll.Registry, UnixListener.Bind(path), Listener, Retry);
        try
        {
            using var client = UnixStream.Connect(path);
            UnixStream? stream = null;
            Eventually(() => accept.TryAccept(out stream), "accept");
            using (stream)
            {
                Assert.Equal(1, accept.Accepted);
                Assert.Throws<InvalidOperationException>(() => accept.TryAccept(out TcpStream? _));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Stop_closes_the_listener_so_new_clients_are_refused()
    {
        using var poll = new Poll();
        var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry);
        var endpoint = (IPEndPoint)accept.LocalEndPoint;
        accept.Stop();
        Assert.True(accept.IsStopped);
        Assert.False(accept.TryAccept(out TcpStream? _));
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            var e = Assert.Throws<SocketException>(() => socket.Connect(endpoint));
            Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        }

        accept.Dispose();
        accept.Dispose();
        accept.ConnectionClosed(); // harmless after Dispose
    }

    [Fact]
    public void Misuse_gets_clear_exceptions_and_leaves_the_listener_unregistered()
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(LoopbackAny);
        Assert.Throws<ArgumentException>(() => new AcceptLoop(poll.Registry, listener, Listener, Listener));
        Assert.Throws<ArgumentException>(() => new AcceptLoop(poll.Registry, listener, Listener, Retry, new AcceptLoopOptions { Trigger = Trigger.Edge | Trigger.Oneshot }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AcceptLoop(poll.Registry, listener, Listener, Retry, new AcceptLoopOptions { RetryDelay = TimeSpan.Zero }));
        Assert.Throws<ArgumentNullException>(() => new AcceptLoop(null!, listener, Listener, Retry));
        Assert.Throws<ArgumentNullException>(() => new AcceptLoop(poll.Registry, (TcpListener)null!, Listener, Retry));
        poll.Registry.Register(listener, Listener, Interest.Readable); // it was left unregistered by every failure
        Assert.Throws<InvalidOperationException>(() => new AcceptLoop(poll.Registry, listener, Listener, Retry));
    }
}
