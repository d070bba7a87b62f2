using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Core;

/// <summary>Raw descriptors for the core tests (the socket types live in Polling.Net).</summary>
internal static unsafe class TestFds
{
    /// <summary>A non-blocking eventfd, owned by the returned handle.</summary>
    public static FdHandle EventFd() => Polling.Os.EventFd.Create();

    public static void Signal(FdHandle eventFd) => Assert.Equal(0, Polling.Os.EventFd.TryWrite(eventFd, 1));

    public static bool TryDrain(FdHandle eventFd) => Polling.Os.EventFd.TryRead(eventFd, out _) == 0;

    /// <summary>A non-blocking pipe: (read end, write end).</summary>
    public static (FdHandle Read, FdHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, pipe2(fds, O_NONBLOCK | O_CLOEXEC));
        return (new FdHandle(fds[0]), new FdHandle(fds[1]));
    }

    public static int Write(FdHandle fd, byte value)
    {
        byte b = value;
        return (int)write(fd.Fd, &b, 1);
    }

    public static int Read(FdHandle fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return (int)read(fd.Fd, p, buffer.Length);
        }
    }

    /// <summary>The kernel thread id of the calling thread.</summary>
    public static int CurrentThreadId() => (int)(long)syscall(RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 178 : 186);

    /// <summary>Sends <paramref name="signal"/> to one thread of this process (tgkill).</summary>
    public static int SignalThread(int threadId, int signal) =>
        (int)(long)syscall(RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 131 : 234, (int)getpid(), threadId, signal);
}

/// <summary>Starts work on a dedicated thread: blocking waits must not depend on thread-pool capacity.</summary>
internal static class Dedicated
{
    public static Task<T> Run<T>(Func<T> work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task Run(Action work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
