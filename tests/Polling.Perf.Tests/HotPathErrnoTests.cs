using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Net;
using Xunit;

namespace Polling.Perf.Tests;

/// <summary>
/// The per-event calls (<c>recv</c> and <c>send</c> — through libc's <c>syscall()</c> on x86-64 — and
/// <c>epoll_wait</c>) read <c>errno</c> only when they failed (Polling.Os.ErrnoOnFailure) instead of clearing and
/// copying it around every call: a stale <c>errno</c> left by an earlier call must never turn a success or a
/// would-block into an error, and a real failure must still name its own error.
/// </summary>
public class HotPathErrnoTests
{
    private const int ECONNRESET = 104;
    private const int EBADF = 9;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_stale_errno_does_not_fail_a_read_a_write_or_a_would_block()
    {
        (TcpStream client, TcpStream server) = ShortReadDrainTests.ConnectedPair();
        using (client)
        using (server)
        {
            byte[] buffer = new byte[64];
            Marshal.SetLastSystemError(ECONNRESET);
            Assert.False(server.TryRead(buffer, out int none)); // would-block: false, not the stale ECONNRESET
            Assert.Equal(0, none);

            Marshal.SetLastSystemError(ECONNRESET);
            Assert.True(client.TryWrite("ping"u8, out int written));
            Assert.Equal(4, written);

            int got = ReadWithin(server, buffer, stale: ECONNRESET);
            Assert.Equal("ping"u8.ToArray(), buffer.AsSpan(0, got).ToArray());
        }
    }

    [Fact]
    public void A_reset_connection_fails_the_read_and_the_write_with_its_own_error()
    {
        (TcpStream client, TcpStream server) = ShortReadDrainTests.ConnectedPair();
        using (server)
        {
            client.Linger = TimeSpan.Zero; // close sends a reset, not a FIN
            client.Dispose();

            WaitReadable(server);
            Marshal.SetLastSystemError(EBADF); // stale, and not the error to report
            SocketException read = Assert.Throws<SocketException>(() => server.TryRead(new byte[64], out _));
            Assert.Equal(SocketError.ConnectionReset, read.SocketErrorCode);
            SocketException write = Assert.Throws<SocketException>(() => server.TryWrite("x"u8, out _));
            Assert.NotEqual(SocketError.Success, write.SocketErrorCode);
        }
    }

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void Wait_succeeds_whatever_errno_was_before(PollBackend backend)
    {
        using var poll = new Poll(backend);
        var events = new Events(4);
        Marshal.SetLastSystemError(EBADF);
        Assert.Equal(0, poll.Wait(events, TimeSpan.Zero));
        Assert.True(events.IsEmpty);
    }

    private static int ReadWithin(TcpStream stream, byte[] buffer, int stale)
    {
        WaitReadable(stream);
        Marshal.SetLastSystemError(stale);
        Assert.True(stream.TryRead(buffer, out int n));
        return n;
    }

    /// <summary>Waits (level-triggered, with a deadline) until <paramref name="stream"/> is readable or reset.</summary>
    private static void WaitReadable(TcpStream stream)
    {
        using var poll = new Poll();
        poll.Registry.Register(stream, (Token)1, Interest.Readable, Trigger.Level);
        var events = new Events(1);
        var clock = Stopwatch.StartNew();
        while (poll.Wait(events, TimeSpan.FromMilliseconds(100)) == 0)
        {
            Assert.True(clock.Elapsed < Deadline, "the stream becomes readable within the deadline");
        }

        poll.Registry.Deregister(stream);
    }
}
