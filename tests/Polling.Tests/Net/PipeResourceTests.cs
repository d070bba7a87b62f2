using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;

namespace Polling.Tests.Net;

[Collection(nameof(DescriptorCounting))]
public sealed class PipeResourceTests
{
    [Fact]
    public void TenThousandCreateDisposeCycles_leak_no_descriptors()
    {
        using var poll = new Poll();
        for (int i = 0; i < 100; i++)
        {
            var (s, r) = Pipe.Create();
            s.Dispose();
            r.Dispose();
        }

        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized
        var ends = new List<IDisposable>(20_000);
        var handles = new List<System.Runtime.InteropServices.SafeHandle>(20_000);
        for (int i = 0; i < 10_000; i++)
        {
            var (sender, receiver) = Pipe.Create();
            if (i % 2 == 0)
            {
                poll.Registry.Register(receiver, (Token)i, Interest.Readable);
            }

            sender.Dispose();
            receiver.Dispose();
            ends.Add(sender);
            ends.Add(receiver);
            handles.Add(sender.Handle);
            handles.Add(receiver.Handle);
        }

        Descriptors.AssertAllClosed(handles, "pipe ends");
        Descriptors.AssertNoneLeakedSince(before, ends);
    }
}

public sealed class PipeAllocationTests
{
    [Fact]
    public void TryWriteTryReadLoop_allocates_nothing()
    {
        using var poll = new Poll();
        var events = new Events(8);
        var (sender, receiver) = Pipe.Create();
        using (sender)
        using (receiver)
        {
            poll.Registry.Register(receiver, (Token)0, Interest.Readable);
            poll.Registry.Register(sender, (Token)1, Interest.Writable);
            byte[] payload = new byte[512];
            byte[] buffer = new byte[512];
            ArraySegment<byte>[] segments = [new ArraySegment<byte>(payload, 0, 100), new ArraySegment<byte>(payload, 100, 100)];

            Run(100);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(10_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);

            void Run(int iterations)
            {
                for (int i = 0; i < iterations; i++)
                {
                    sender.TryWrite(payload, out _);
                    poll.Wait(events, TimeSpan.Zero);
                    receiver.TryRead(buffer, out _);
                    receiver.TryRead(buffer, out _); // the would-block path too
                    sender.TryWrite(segments, out _);
                    receiver.TryRead(segments, out _);
                }
            }
        }
    }
}
