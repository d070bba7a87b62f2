using System.Diagnostics;
using System.Runtime.InteropServices;
using Polling.Tests.Core;

namespace Polling.Tests;

/// <summary>
/// Runs <c>Poll.Wait</c> on a dedicated thread and proves that thread is blocked <i>inside</i> the wait system call
/// before a test tries to wake it: <c>/proc/self/task/&lt;tid&gt;/syscall</c> names the system call a sleeping thread
/// is in. A test that only slept a few milliseconds could pass while the wake came before the wait.
/// </summary>
internal sealed class BlockedWaiter<T>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly Task<T> _task;
    private int _threadId;

    private BlockedWaiter(Func<T> wait)
    {
        _task = Dedicated.Run(() =>
        {
            Volatile.Write(ref _threadId, TestFds.CurrentThreadId());
            return wait();
        });
    }

    /// <summary>The waiter's result or exception.</summary>
    public Task<T> Task => _task;

    /// <summary>Starts <paramref name="wait"/> (a <c>Poll.Wait</c> call) and returns once its thread sleeps in epoll_wait or poll.</summary>
    public static BlockedWaiter<T> Start(Func<T> wait)
    {
        var waiter = new BlockedWaiter<T>(wait);
        waiter.UntilBlocked();
        return waiter;
    }

    private void UntilBlocked()
    {
        var clock = Stopwatch.StartNew();
        string last = "not started";
        while (clock.Elapsed < Patience)
        {
            if (_task.IsCompleted)
            {
                throw new InvalidOperationException($"the waiter returned before it blocked: {(_task.IsFaulted ? _task.Exception!.InnerException : _task.Result)}");
            }

            int tid = Volatile.Read(ref _threadId);
            if (tid != 0)
            {
                last = InSyscall.Read(tid);
                if (InSyscall.IsWaiting(last))
                {
                    return;
                }
            }

            Thread.Yield();
        }

        throw new TimeoutException($"the waiter did not block in a wait system call within {Patience.TotalSeconds} s; /proc/self/task/{_threadId}/syscall: {last}");
    }
}

/// <summary>What <c>/proc/self/task/&lt;tid&gt;/syscall</c> says a thread is doing.</summary>
internal static class InSyscall
{
    // x86_64: poll 7, epoll_wait 232, ppoll 271, epoll_pwait 281, epoll_pwait2 441.
    // arm64:  epoll_pwait 22, ppoll 73, epoll_pwait2 441.
    private static readonly int[] WaitCalls = RuntimeInformation.ProcessArchitecture == Architecture.Arm64
        ? [22, 73, 441]
        : [7, 232, 271, 281, 441];

    /// <summary>The file's first line: a system call number and its arguments, "running", or "-1 ..." when not in a call.</summary>
    public static string Read(int threadId)
    {
        try
        {
            return File.ReadAllText($"/proc/self/task/{threadId}/syscall").Trim();
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    /// <summary><see langword="true"/> if <paramref name="syscallLine"/> shows a thread sleeping in epoll_wait, epoll_pwait, poll or ppoll.</summary>
    public static bool IsWaiting(string syscallLine)
    {
        int space = syscallLine.IndexOf(' ');
        return space > 0 && int.TryParse(syscallLine.AsSpan(0, space), out int number) && Array.IndexOf(WaitCalls, number) >= 0;
    }
}
