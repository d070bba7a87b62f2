using BenchmarkDotNet.Attributes;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Benchmarks;

/// <summary>
/// <see cref="Poll.Wait"/> with 1 ready source among 100, 10,000 and 50,000 registered (epoll), next to a raw
/// <c>epoll_wait</c> on an epoll set of the same size (baseline). epoll's wait costs O(ready), so both should be
/// flat in the number registered; the target is Polling flat within 10 %. Each wait must return exactly the one ready
/// source (level-triggered eventfd with a count, never read) or the benchmark throws.
/// </summary>
/// <remarks>
/// <para>50,000 registrations need more descriptors than RLIMIT_NOFILE allows here (hard limit 20,000, not raisable in
/// the container), so the idle registrations are made the way epoll permits: an epoll item is keyed by (file,
/// descriptor number) and lives as long as the file is open, so each idle eventfd is registered under many numbers
/// (<c>fcntl(F_DUPFD)</c>, register, close the duplicate). Every one is a live, watched epoll item.</para>
/// <para>Run: <c>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*WaitAmongRegistered*' --job short</c></para>
/// </remarks>
[MemoryDiagnoser]
public unsafe class WaitAmongRegisteredBenchmarks
{
    private const int NumbersPerFile = 10_000;
    private readonly List<int> _idleFiles = [];
    private Poll _poll = null!;
    private Events _events = null!;
    private int _rawEpoll;
    private FdHandle _ready = null!;
    private epoll_event[] _rawEvents = null!;

    /// <summary>Registered sources, including the one that is ready.</summary>
    [Params(100, 10_000, 50_000)]
    public int Registered { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _poll = new Poll(PollBackend.Epoll);
        _events = new Events(64);
        _rawEvents = new epoll_event[64];
        _rawEpoll = epoll_create1(EPOLL_CLOEXEC);
        _ready = EventFd.Create();
        ulong one = 1;
        write(_ready.Fd, &one, sizeof(ulong));
        _poll.Registry.Register(new SourceFd(_ready.Fd), (Token)0, Interest.Readable, Trigger.Level);
        RawAdd(_ready.Fd, 0);

        int registered = 1;
        while (registered < Registered)
        {
            int file = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (file < 0)
            {
                throw new InvalidOperationException($"eventfd failed (errno {errno})");
            }

            _idleFiles.Add(file);
            for (int i = 0; i < NumbersPerFile && registered < Registered; i++, registered++)
            {
                int number = fcntl(file, F_DUPFD_CLOEXEC, 1024 + i);
                if (number < 0)
                {
                    throw new InvalidOperationException($"fcntl(F_DUPFD) failed (errno {errno}) at {registered}; raise 'ulimit -n' to 12000 or more");
                }

                _poll.Registry.Register(new SourceFd(number), (Token)(ulong)registered, Interest.Readable, Trigger.Edge);
                RawAdd(number, (ulong)registered);
                close(number);   // the epoll items stay: the file is still open through `file`
            }
        }

        if (_poll.Wait(_events, TimeSpan.Zero) != 1 || RawWait() != 1)
        {
            throw new InvalidOperationException("expected exactly one ready source");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _poll.Dispose();
        close(_rawEpoll);
        _ready.Dispose();
        foreach (int file in _idleFiles)
        {
            close(file);
        }

        _idleFiles.Clear();
    }

    [Benchmark(Baseline = true, Description = "epoll_wait")]
    public int RawWait()
    {
        fixed (epoll_event* events = _rawEvents)
        {
            int n = epoll_wait(_rawEpoll, events, _rawEvents.Length, 0);
            return n == 1 ? n : throw new InvalidOperationException($"epoll_wait returned {n}");
        }
    }

    [Benchmark(Description = "Poll.Wait")]
    public int PollingWait()
    {
        int n = _poll.Wait(_events, TimeSpan.Zero);
        return n == 1 ? n : throw new InvalidOperationException($"Wait returned {n}");
    }

    private void RawAdd(int fd, ulong data)
    {
        epoll_event ev = default;
        ev.events = (int)EpollFlags.In;
        ev.data.u64 = data;
        if (epoll_ctl(_rawEpoll, EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl failed (errno {errno})");
        }
    }
}
