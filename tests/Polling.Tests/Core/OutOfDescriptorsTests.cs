using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Core;

/// <summary>What must still work when the process has no descriptor left; each runs in a child process.</summary>
public sealed class OutOfDescriptorsTests
{
    [Theory]
    [InlineData(nameof(OutOfDescriptorsScenarios.DisposeWakesABlockedEpollWait))]
    [InlineData(nameof(OutOfDescriptorsScenarios.DisposeWakesABlockedPollWait))]
    public void Dispose_wakes_a_blocked_wait_when_the_process_is_out_of_descriptors(string scenario)
    {
        (int exitCode, string output) = ChildProcess.Run(scenario, nofile: 128);
        Assert.True(exitCode == 0, $"child exited {exitCode}: {output}");
        Assert.Contains("waiter threw ObjectDisposedException", output);
    }
}

[ChildScenarios]
internal static unsafe class OutOfDescriptorsScenarios
{
    public static int DisposeWakesABlockedEpollWait() => DisposeWakesABlockedWait(PollBackend.Epoll);

    public static int DisposeWakesABlockedPollWait() => DisposeWakesABlockedWait(PollBackend.Poll);

    private static int DisposeWakesABlockedWait(PollBackend backend)
    {
        var poll = new Poll(backend);
        var events = new Events(4);
        var waiter = BlockedWaiter<int>.Start(() => poll.Wait(events));
        var taken = new List<int>();
        int errno;
        while (true)
        {
            int fd = eventfd(0, EFD_CLOEXEC);
            if (fd < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                break;
            }

            taken.Add(fd);
        }

        // Out of descriptors now (EMFILE): Dispose must still end the blocked wait.
        poll.Dispose();
        bool returned = ((IAsyncResult)waiter.Task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
        foreach (int fd in taken)
        {
            close(fd);
        }

        Console.WriteLine($"{backend}: took {taken.Count} descriptors until errno {errno}; Dispose then ended the wait: {returned}");
        if (!returned)
        {
            return 2;
        }

        Console.WriteLine(waiter.Task.Exception?.InnerException is ObjectDisposedException
            ? "waiter threw ObjectDisposedException"
            : $"waiter ended otherwise: {waiter.Task.Status} {waiter.Task.Exception}");
        return errno == EMFILE ? 0 : 3;
    }
}
