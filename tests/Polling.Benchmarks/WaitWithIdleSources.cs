using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Polling;
using static Tmds.Linux.LibC;

namespace Polling.Benchmarks;

/// <summary>
/// The cost of one <see cref="Poll.Wait"/> that returns 1 ready source among N registered sources, the
/// other N-1 idle, for epoll (baseline) and poll(2). epoll's wait is O(ready); poll(2) hands the kernel
/// all N descriptors every time, so its cost grows with N. Sources are eventfds (one descriptor each):
/// the ready one holds a count and is registered level-triggered so every wait reports it without I/O.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*WaitWithIdleSources*' --job short</c></remarks>
[MemoryDiagnoser]
public partial class WaitWithIdleSources
{
    private readonly List<int> _fds = [];
    private Poll? _epoll;
    private Poll? _poll;
    private Events? _events;

    /// <summary>Registered sources, including the one that is ready.</summary>
    [Params(10, 100, 1_000, 10_000)]
    public int Registered { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        EnsureDescriptorLimit(Registered + 64);
        _epoll = new Poll(PollBackend.Epoll);
        _poll = new Poll(PollBackend.Poll);
        _events = new Events(64);
        for (int i = 0; i < Registered; i++)
        {
            int fd = eventfd(i == Registered / 2 ? 1u : 0u, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd < 0)
            {
                throw new InvalidOperationException($"eventfd failed (errno {errno}) after {i} descriptors; raise 'ulimit -n'.");
            }

            _fds.Add(fd);
            _epoll.Registry.Register(new SourceFd(fd), (Token)(ulong)i, Interest.Readable, Trigger.Level);
            _poll.Registry.Register(new SourceFd(fd), (Token)(ulong)i, Interest.Readable, Trigger.Level);
        }

        if (_epoll.Wait(_events, TimeSpan.Zero) != 1 || _poll.Wait(_events, TimeSpan.Zero) != 1)
        {
            throw new InvalidOperationException("Expected exactly one ready source.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _epoll?.Dispose();
        _poll?.Dispose();
        foreach (int fd in _fds)
        {
            close(fd);
        }

        _fds.Clear();
    }

    [Benchmark(Baseline = true)]
    public int Epoll() => Ready(_epoll!.Wait(_events!, TimeSpan.Zero));

    [Benchmark]
    public int Poll() => Ready(_poll!.Wait(_events!, TimeSpan.Zero));

    private static int Ready(int count)
    {
        Require.That(count == 1, $"Wait reports the one ready source (returned {count})");
        return count;
    }

    /// <summary>Raises the soft RLIMIT_NOFILE towards the hard limit if <paramref name="needed"/> descriptors would not fit.</summary>
    private static unsafe void EnsureDescriptorLimit(int needed)
    {
        const int RLIMIT_NOFILE = 7;
        Rlimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.Current >= (ulong)needed)
        {
            return;
        }

        limit.Current = Math.Min((ulong)needed, limit.Maximum);
        setrlimit(RLIMIT_NOFILE, &limit);
    }

    [LibraryImport("libc.so.6")]
    private static unsafe partial int getrlimit(int resource, Rlimit* limit);

    [LibraryImport("libc.so.6")]
    private static unsafe partial int setrlimit(int resource, Rlimit* limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
