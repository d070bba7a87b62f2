namespace Polling.Tests.Core;

/// <summary>
/// Tests that count this process's open descriptors; they run alone (the DescriptorCounting
/// collection disables parallelization) so other tests' descriptors do not disturb the count.
/// </summary>
[Collection("DescriptorCounting")]
public class CoreDescriptorTests
{
    [Fact]
    public void Creating_and_disposing_wakers_leaks_no_descriptors()
    {
        using var poll = new Poll();
        var before = Descriptors.Baseline();
        var wakers = new List<Waker>(1000);
        for (int i = 0; i < 1000; i++)
        {
            using var waker = new Waker(poll.Registry, (Token)i);
            wakers.Add(waker);
            waker.Wake();
        }

        Descriptors.AssertAllClosed(wakers.Select(w => (System.Runtime.InteropServices.SafeHandle)w.Handle), "wakers");
        Descriptors.AssertNoneLeakedSince(before, wakers);
        Assert.Equal(0, poll.Wait(new Events(4), TimeSpan.Zero));
    }

    [Fact]
    public void Disposing_a_Poll_closes_only_its_own_descriptor()
    {
        var before = Descriptors.Baseline();
        var poll = new Poll();
        var (read, write) = TestFds.Pipe();
        poll.Registry.Register(new SourceFd(read.Fd), (Token)1, Interest.Readable);

        poll.Dispose();

        Assert.Equal(1, TestFds.Write(write, 7));
        Span<byte> buffer = stackalloc byte[4];
        Assert.Equal(1, TestFds.Read(read, buffer));
        using var other = new Poll();
        other.Registry.Register(new SourceFd(read.Fd), (Token)2, Interest.Readable);
        other.Registry.Deregister(new SourceFd(read.Fd));
        read.Dispose();
        write.Dispose();
        other.Dispose();
        Descriptors.AssertNoneLeakedSince(before);
    }
}
