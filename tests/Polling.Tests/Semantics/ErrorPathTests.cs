using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Semantics;

/// <summary>
/// Issue 9's poll(2) bugs, each as a test that failed before the fix, run on both backends so that they
/// hold the backends to the same behaviour: a <c>Try…</c> that throws or a <c>TakeError</c> leaves no source
/// deaf, re-arming a timer whose expiry was not read is new readiness, closed descriptors and regular files
/// are refused alike, and a descriptor number reused after a forgotten <see cref="SourceFd"/> is not
/// reported under the old token.
/// </summary>
public class ErrorPathTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);

    [Theory]
    [InlineData(PollBackend.Epoll, false)]
    [InlineData(PollBackend.Poll, false)]
    [InlineData(PollBackend.Epoll, true)]
    [InlineData(PollBackend.Poll, true)]
    public void A_connected_udp_socket_reports_the_next_datagram_after_an_ICMP_error(PollBackend backend, bool takeError)
    {
        using var poll = new Poll(backend);
        var events = new Events(8);
        using var local = UdpSocket.Bind(Loopback);
        IPEndPoint closed;
        using (var gone = UdpSocket.Bind(Loopback))
        {
            closed = gone.LocalEndPoint;
        }

        local.Connect(closed);
        poll.Registry.Register(local, (Token)1, Interest.Readable);
        Assert.True(local.TrySend("ping"u8, out _));   // port unreachable: the ICMP error makes the socket report POLLERR
        Event error = WaitFor(poll, events, (Token)1);
        Assert.True(error.IsError, error.ToString());

        if (takeError)
        {
            Assert.Equal(SocketError.ConnectionRefused, local.TakeError());
        }
        else
        {
            SocketException refused = Assert.Throws<SocketException>(() => local.TryReceive(new byte[16], out _));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        // No further read: the throw (or TakeError) is where the loop stops, so it must leave the socket armed.
        using var peer = UdpSocket.Bind(closed);                 // the peer comes back and sends
        Assert.True(peer.TrySendTo("pong"u8, local.LocalEndPoint, out _));
        Event next = WaitFor(poll, events, (Token)1);            // poll(2) stayed deaf here before the fix
        Assert.True(next.IsReadable, next.ToString());
        Assert.True(local.TryReceive(new byte[16], out int n));
        Assert.Equal(4, n);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_timer_set_again_after_an_unread_expiry_fires_again_under_edge(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(8);
        using var timer = new TimerSource();
        poll.Registry.Register(timer, (Token)2, Interest.Readable);
        timer.SetOnce(TimeSpan.Zero);
        WaitFor(poll, events, (Token)2);

        // Not read: setting it again discards the expiry; the next one is new readiness and must be reported.
        timer.SetOnce(TimeSpan.FromMilliseconds(1));
        WaitFor(poll, events, (Token)2);                          // poll(2) never reported it before the fix
        Assert.True(timer.TryReadExpirations(out ulong expirations));
        Assert.Equal(1UL, expirations);
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_listener_whose_accept_threw_reports_the_next_connection(PollBackend backend)
    {
        // Shutting a listening socket down takes it out of LISTEN: its waiters are woken and accept fails with
        // EINVAL. Listening again (same port) and connecting is new readiness, which must be reported — the
        // failed accept must not have left the listener disarmed (the accept-at-EMFILE case, without exhaustion;
        // the Exhaustion tests show that one in a child process).
        using var poll = new Poll(backend);
        var events = new Events(8);
        using var listener = Polling.Net.TcpListener.Bind(Loopback);
        poll.Registry.Register(listener, (Token)3, Interest.Readable);
        int fd = (int)listener.Handle.DangerousGetHandle();
        Assert.Equal(0, shutdown(fd, SHUT_RD));
        WaitFor(poll, events, (Token)3);
        SocketException failed = Assert.Throws<SocketException>(() => listener.TryAccept(out _));
        Assert.Equal(SocketError.InvalidArgument, failed.SocketErrorCode);
        Assert.Contains("accept a connection on TcpListener(fd ", failed.Message);

        Assert.Equal(0, listen(fd, 16));   // the shutdown released the port: listening again binds a new one
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint);
        WaitFor(poll, events, (Token)3);                           // poll(2) stayed deaf here before the fix
        Assert.True(listener.TryAccept(out TcpStream? accepted));
        accepted.Dispose();
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_pipe_writer_whose_reader_closed_keeps_reporting_after_EPIPE(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(8);
        (PipeSender sender, PipeReceiver receiver) = Pipe.Create();
        using (sender)
        {
            poll.Registry.Register(sender, (Token)4, Interest.Writable);
            WaitFor(poll, events, (Token)4);
            byte[] chunk = new byte[4096];
            while (sender.TryWrite(chunk, out _))
            {
                // fill the pipe: under Edge, only a would-block promises the next event
            }

            receiver.Dispose();
            Event closed = WaitFor(poll, events, (Token)4, ev => ev.IsError || ev.IsWriteClosed);
            Assert.True(closed.IsWriteClosed, closed.ToString());
            IOException broken = Assert.Throws<IOException>(() => sender.TryWrite("x"u8, out _));
            Assert.Equal(32, broken.HResult);
            Assert.Contains("reading end is closed", broken.Message);
            if (backend == PollBackend.Poll)
            {
                // The failure rearmed every direction: the broken pipe is reported again (on epoll the
                // edge came once; both are allowed — what is not allowed is a source silenced by a throw).
                Event again = WaitFor(poll, events, (Token)4);
                Assert.True(again.IsWriteClosed, again.ToString());
            }
        }
    }

    [Fact]
    public void Both_backends_refuse_a_closed_descriptor_and_a_regular_file_with_the_same_exception()
    {
        string file = Path.Combine(Path.GetTempPath(), $"polling-regular-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(file, "not pollable");
        using FileStream stream = File.OpenRead(file);
        int regular = (int)stream.SafeFileHandle.DangerousGetHandle();
        int closed = HighClosedNumber();
        try
        {
            IOException[] ofFile = [.. Backends().Select(backend => RegisterFails(backend, regular))];
            IOException[] ofClosed = [.. Backends().Select(backend => RegisterFails(backend, closed))];
            Assert.All(ofFile, e => Assert.Equal(1, e.HResult));      // EPERM
            Assert.All(ofClosed, e => Assert.Equal(9, e.HResult));    // EBADF
            Assert.Equal(ofFile[0].Message, ofFile[1].Message);
            Assert.Equal(ofClosed[0].Message, ofClosed[1].Message);
            Assert.Contains("cannot be polled", ofFile[0].Message);
            Assert.Contains("not open", ofClosed[0].Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void A_number_reused_after_a_SourceFd_was_closed_without_deregistering_is_not_reported_under_the_old_token(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(8);
        (int oldRead, int oldWrite) = HighPipe();
        poll.Registry.Register(new SourceFd(oldRead), (Token)7, Interest.Readable, Trigger.Level);
        close(oldRead);   // misuse: closed while registered, and before any Wait could see POLLNVAL

        (int newRead, int newWrite) = HighPipe();
        try
        {
            Assert.Equal(0, dup2(newRead, oldRead) < 0 ? -1 : 0);   // the number now names another pipe ...
            WriteByte(newWrite);                                    // ... which is readable
            Assert.Equal(0, poll.Wait(events, TimeSpan.FromMilliseconds(50)));   // poll(2) reported it as token 7 before the fix
            Assert.Equal(0, poll.Wait(events, TimeSpan.FromMilliseconds(20)));   // and does not spin on it
        }
        finally
        {
            close(oldRead);
            close(oldWrite);
            close(newRead);
            close(newWrite);
        }
    }

    private static PollBackend[] Backends() => [PollBackend.Epoll, PollBackend.Poll];

    private static IOException RegisterFails(PollBackend backend, int fd)
    {
        using var poll = new Poll(backend);
        return Assert.Throws<IOException>(() => poll.Registry.Register(new SourceFd(fd), (Token)1, Interest.Readable));
    }

    private static Event WaitFor(Poll poll, Events events, Token token, Func<Event, bool>? predicate = null)
    {
        long end = Environment.TickCount64 + (long)Deadline.TotalMilliseconds;
        while (Environment.TickCount64 < end)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(200));
            foreach (Event ev in events)
            {
                if (ev.Token == token && (predicate is null || predicate(ev)))
                {
                    return ev;
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"No event for token {(ulong)token} within {Deadline}.");
    }

    /// <summary>A pipe whose ends sit far above the numbers parallel tests use, so nobody else takes them meanwhile.</summary>
    private static unsafe (int Read, int Write) HighPipe()
    {
        const int F_DUPFD_CLOEXEC = 1030;
        int* fds = stackalloc int[2];
        Assert.Equal(0, pipe2(fds, O_NONBLOCK | O_CLOEXEC));
        int read = fcntl(fds[0], F_DUPFD_CLOEXEC, 6000);
        int write = fcntl(fds[1], F_DUPFD_CLOEXEC, 6000);
        close(fds[0]);
        close(fds[1]);
        Assert.True(read >= 6000 && write >= 6000);
        return (read, write);
    }

    private static int HighClosedNumber()
    {
        (int read, int write) = HighPipe();
        close(read);
        close(write);
        return read;
    }

    private static unsafe void WriteByte(int fd)
    {
        byte value = 1;
        Assert.Equal(1, (int)write(fd, &value, 1));
    }
}
