using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

public sealed class PipeTests
{
    private const Token ReceiverToken = (Token)0;
    private const Token SenderToken = (Token)1;

    [Fact]
    public void Smoke_write_then_read_through_poll()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            var buffer = new byte[20];
            Assert.False(receiver.TryRead(buffer, out int none));
            Assert.Equal(0, none);

            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            poll.Registry.Register(sender, SenderToken, Interest.Writable);

            WaitFor(poll, events, SenderToken, e => e.IsWritable);
            Assert.True(sender.TryWrite("Hello world"u8, out int written));
            Assert.Equal(11, written);

            WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
            Assert.True(receiver.TryRead(buffer, out int read));
            Assert.Equal("Hello world"u8.ToArray(), buffer[..read]);
            Assert.False(receiver.TryRead(buffer, out _));
        }
    }

    [Fact]
    public void ReadAfterWriterClosed_returns_buffered_data_then_zero_and_reports_read_closed()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (receiver)
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            Assert.True(sender.TryWrite("last words"u8, out _));
            WaitFor(poll, events, ReceiverToken, e => e.IsReadable);

            sender.Dispose();
            Event closed = WaitFor(poll, events, ReceiverToken, e => e.IsReadClosed);
            Assert.True(closed.IsReadable);

            var buffer = new byte[64];
            Assert.True(receiver.TryRead(buffer, out int read));
            Assert.Equal("last words"u8.ToArray(), buffer[..read]);
            Assert.True(receiver.TryRead(buffer, out int end));
            Assert.Equal(0, end);
        }
    }

    [Fact]
    public void WriteAfterReaderClosed_reports_write_closed_and_error_and_throws_IO_exception_without_sigpipe()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        {
            poll.Registry.Register(sender, SenderToken, Interest.Writable);
            WaitFor(poll, events, SenderToken, e => e.IsWritable);

            receiver.Dispose();
            Event closed = WaitFor(poll, events, SenderToken, e => e.IsWriteClosed);
            Assert.True(closed.IsError);

            // Were SIGPIPE not ignored, this write would kill the test process.
            IOException error = Assert.Throws<IOException>(() => sender.TryWrite("lost"u8, out _));
            Assert.Equal(32, error.HResult);
            Assert.Contains("reading end is closed", error.Message);
            Assert.Contains("dispose this sender", error.Message);
        }
    }

    [Fact]
    public unsafe void Runtime_ignores_sigpipe()
    {
        Tmds.Linux.sigaction current;
        Assert.Equal(0, Tmds.Linux.LibC.sigaction(Tmds.Linux.LibC.SIGPIPE, null, &current));
        Assert.True(current.sa_handler == Tmds.Linux.LibC.SIG_IGN, "The .NET runtime should ignore SIGPIPE; Polling relies on it for pipes.");
    }

    [Fact]
    public void LargeTransfer_with_partial_writes_arrives_intact()
    {
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(4).NextBytes(data);
        byte[] received = new byte[data.Length];
        int sent = 0, got = 0, partialWrites = 0, wouldBlocks = 0;

        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            poll.Registry.Register(sender, SenderToken, Interest.Writable);
            DateTime end = DateTime.UtcNow + Deadline;
            while (got < data.Length)
            {
                Assert.True(DateTime.UtcNow < end, $"Transfer stalled at {got} of {data.Length} bytes.");
                poll.Wait(events, TimeSpan.FromSeconds(1));
                foreach (Event ev in events)
                {
                    if (ev.Token == SenderToken)
                    {
                        while (sent < data.Length)
                        {
                            int chunk = Math.Min(256 * 1024, data.Length - sent);
                            if (!sender.TryWrite(data.AsSpan(sent, chunk), out int n))
                            {
                                wouldBlocks++;
                                break;
                            }

                            if (n < chunk) partialWrites++;
                            sent += n;
                        }
                    }
                    else if (ev.Token == ReceiverToken)
                    {
                        while (receiver.TryRead(received.AsSpan(got), out int n) && n > 0)
                        {
                            got += n;
                        }
                    }
                }
            }
        }

        Assert.True(partialWrites > 0, "A 256 KiB write into a 64 KiB pipe should be partial.");
        Assert.True(wouldBlocks > 0, "A full pipe should make TryWrite return false.");
        Assert.True(data.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public void EdgeTriggered_no_event_after_drain_event_on_new_data()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            var buffer = new byte[16];
            for (int round = 0; round < 3; round++)
            {
                Assert.True(sender.TryWrite("x"u8, out _));
                WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
                while (receiver.TryRead(buffer, out _))
                {
                }

                Assert.Empty(Drain(poll, events, ReceiverToken, TimeSpan.FromMilliseconds(50)));
            }
        }
    }

    [Fact]
    public void DisposedWhileRegistered_produces_no_further_events()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable, Trigger.Level);
            Assert.True(sender.TryWrite("unread"u8, out _));
            WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
            receiver.Dispose();
            Assert.Empty(Drain(poll, events, ReceiverToken));
        }
    }

    [Fact]
    public void VectoredWriteAndRead_move_segments_in_order()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            byte[] header = "HEAD:"u8.ToArray(), body = "body bytes"u8.ToArray();
            ArraySegment<byte>[] outgoing = [header, new ArraySegment<byte>(body, 0, 4), default, new ArraySegment<byte>(body, 4, 6)];
            Assert.True(sender.TryWrite(outgoing, out int written));
            Assert.Equal(15, written);

            WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
            byte[] first = new byte[5], second = new byte[32];
            Assert.True(receiver.TryRead([first, second], out int read));
            Assert.Equal(15, read);
            Assert.Equal(header, first);
            Assert.Equal(body, second[..10]);
            Assert.False(receiver.TryRead([first], out _)); // empty again: would block, not end of stream

            receiver.Dispose();
            var error = Assert.Throws<IOException>(() => sender.TryWrite(outgoing, out _));
            Assert.Equal(32, error.HResult);
            Assert.Contains("reading end is closed", error.Message);
        }
    }

    [Fact]
    public void EmptyBuffers_return_true_with_zero()
    {
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            Assert.True(sender.TryWrite(ReadOnlySpan<byte>.Empty, out int written));
            Assert.Equal(0, written);
            Assert.True(receiver.TryRead(Span<byte>.Empty, out int read));
            Assert.Equal(0, read);
        }
    }

    [Fact]
    public void NullArguments_throw()
    {
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            Assert.Throws<ArgumentNullException>(() => ((ISource)receiver).Register(null!, ReceiverToken, Interest.Readable, Trigger.Edge));
            Assert.Throws<ArgumentNullException>(() => ((ISource)sender).Reregister(null!, SenderToken, Interest.Writable, Trigger.Edge));
            Assert.Throws<ArgumentNullException>(() => ((ISource)sender).Deregister(null!));
            Assert.Throws<ArgumentNullException>(() => PipeSender.FromHandle(null!));
            Assert.Throws<ArgumentNullException>(() => PipeReceiver.FromHandle(null!));
        }
    }

    [Fact]
    public void Disposed_throws_object_disposed_and_dispose_is_idempotent()
    {
        using var poll = new Poll();
        var (sender, receiver) = Pipe.Create();
        sender.Dispose();
        receiver.Dispose();
        sender.Dispose();
        receiver.Dispose();

        var error = Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(receiver, ReceiverToken, Interest.Readable));
        Assert.Contains("PipeReceiver", error.Message);
        Assert.Throws<ObjectDisposedException>(() => poll.Registry.Register(sender, SenderToken, Interest.Writable));
        Assert.Throws<ObjectDisposedException>(() => receiver.TryRead(new byte[1], out _));
        Assert.Throws<ObjectDisposedException>(() => sender.TryWrite(new byte[1], out _));
        Assert.True(sender.Handle.IsClosed);
        Assert.True(receiver.Handle.IsClosed);
        Assert.Equal("PipeSender(disposed)", sender.ToString());
    }

    [Fact]
    public void FromHandle_adopts_anonymous_pipe_ends()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        SafePipeHandle writeHandle = server.SafePipeHandle;
        SafePipeHandle readHandle = client.SafePipeHandle;

        using PipeSender sender = PipeSender.FromHandle(writeHandle);
        using PipeReceiver receiver = PipeReceiver.FromHandle(readHandle);
        Assert.True(writeHandle.IsClosed, "The adopted handle must no longer own the descriptor.");
        Assert.True(readHandle.IsClosed, "The adopted handle must no longer own the descriptor.");
        server.Dispose(); // must not close the adopted descriptors
        client.Dispose();

        var buffer = new byte[16];
        Assert.False(receiver.TryRead(buffer, out _)); // now non-blocking
        poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
        Assert.True(sender.TryWrite("adopted"u8, out _));
        WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
        Assert.True(receiver.TryRead(buffer, out int n));
        Assert.Equal("adopted"u8.ToArray(), buffer[..n]);
    }

    [Fact]
    public void FromHandle_wrong_direction_or_closed_throws_and_leaves_handle_alone()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var error = Assert.Throws<ArgumentException>(() => PipeReceiver.FromHandle(server.SafePipeHandle));
        Assert.Contains("not open for reading", error.Message);
        Assert.False(server.SafePipeHandle.IsInvalid);
        server.Write([1], 0, 1); // still usable by its owner

        var (sender, receiver) = Pipe.Create();
        receiver.Dispose();
        using (sender)
        {
            var closed = new SafeFileHandle(-1, ownsHandle: false);
            Assert.Throws<ArgumentException>(() => PipeSender.FromHandle(closed));
        }
    }

    [Fact]
    public void FromHandle_child_process_pipes_echo_through_cat()
    {
        using var process = Process.Start(new ProcessStartInfo("cat")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        using var poll = new Poll();
        var events = new Events(8);
        var stdin = (PipeStream)process.StandardInput.BaseStream;
        var stdout = (PipeStream)process.StandardOutput.BaseStream;
        using (PipeSender sender = PipeSender.FromHandle(stdin.SafePipeHandle))
        using (PipeReceiver receiver = PipeReceiver.FromHandle(stdout.SafePipeHandle))
        {
            poll.Registry.Register(receiver, ReceiverToken, Interest.Readable);
            Assert.True(sender.TryWrite("Hello world"u8, out int written));
            Assert.Equal(11, written);

            var buffer = new byte[32];
            WaitFor(poll, events, ReceiverToken, e => e.IsReadable);
            int got = 0;
            Eventually(() =>
            {
                while (receiver.TryRead(buffer.AsSpan(got), out int n) && n > 0) got += n;
                return got >= 11;
            }, "cat's echo");
            Assert.Equal("Hello world"u8.ToArray(), buffer[..got]);

            sender.Dispose(); // cat sees end of input and exits, closing its output
            WaitFor(poll, events, ReceiverToken, e => e.IsReadClosed);
            Assert.True(receiver.TryRead(buffer, out int end));
            Assert.Equal(0, end);
        }

        Assert.True(process.WaitForExit(10_000));
    }

    [Fact]
    public void Handle_is_the_open_descriptor()
    {
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            Assert.False(sender.Handle.IsInvalid);
            Assert.NotEqual(sender.Handle.DangerousGetHandle(), receiver.Handle.DangerousGetHandle());
            Assert.Contains($"fd {(int)receiver.Handle.DangerousGetHandle()}", receiver.ToString());
        }
    }

    [Fact]
    public void ToString_names_the_end_and_descriptor()
    {
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            Assert.StartsWith("PipeSender(fd ", sender.ToString());
            Assert.StartsWith("PipeReceiver(fd ", receiver.ToString());
        }
    }
}
