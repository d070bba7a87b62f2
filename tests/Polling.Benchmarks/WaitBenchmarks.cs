using BenchmarkDotNet.Attributes;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Benchmarks;

/// <summary>
/// One Wake + Wait + iteration through Polling, against the same two syscalls made directly
/// (eventfd write + epoll_wait): the ratio is Polling's overhead over the kernel floor.
/// </summary>
[MemoryDiagnoser]
public unsafe class WaitBenchmarks
{
    private Poll _poll = null!;
    private Waker _waker = null!;
    private Events _events = null!;
    private int _rawEpoll;
    private FdHandle _rawEventFd = null!;
    private epoll_event[] _rawEvents = null!;

    [GlobalSetup]
    public void Setup()
    {
        _poll = new Poll();
        _waker = new Waker(_poll.Registry, (Token)1);
        _events = new Events(64);

        _rawEpoll = epoll_create1(EPOLL_CLOEXEC);
        _rawEventFd = EventFd.Create();
        epoll_event ev = default;
        ev.events = unchecked((int)(EpollFlags.In | EpollFlags.EdgeTriggered));
        ev.data.u64 = 1;
        epoll_ctl(_rawEpoll, EPOLL_CTL_ADD, _rawEventFd.Fd, &ev);
        _rawEvents = new epoll_event[64];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _waker.Dispose();
        _poll.Dispose();
        _rawEventFd.Dispose();
        close(_rawEpoll);
    }

    [Benchmark(Baseline = true, Description = "raw eventfd write + epoll_wait")]
    public ulong RawSyscalls()
    {
        ulong one = 1;
        Require.That(write(_rawEventFd.Fd, &one, sizeof(ulong)) == sizeof(ulong), "eventfd write");
        fixed (epoll_event* events = _rawEvents)
        {
            int n = epoll_wait(_rawEpoll, events, _rawEvents.Length, 0);
            Require.That(n == 1, $"epoll_wait reports the eventfd (returned {n})");
            ulong sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += events[i].data.u64;
            }

            return sum;
        }
    }

    [Benchmark(Description = "Waker.Wake + Poll.Wait + foreach")]
    public ulong PollingWakeWait()
    {
        _waker.Wake();
        Require.That(_poll.Wait(_events, TimeSpan.Zero) == 1, "Wait reports the Waker");
        ulong sum = 0;
        foreach (Event ev in _events)
        {
            sum += (ulong)ev.Token;
        }

        return sum;
    }
}
