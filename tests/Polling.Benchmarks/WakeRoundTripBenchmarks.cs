using BenchmarkDotNet.Attributes;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Benchmarks;

/// <summary>
/// A wake-up round trip across two threads: this thread wakes the partner's Poll and blocks in its own Wait until
/// the partner, woken, wakes it back. Polling (Waker.Wake + Poll.Wait) next to the same raw calls (eventfd write +
/// blocking epoll_wait + eventfd read) with the same thread structure (baseline). Each side checks it was woken
/// by its token: a timeout or an empty wait throws. On this 2-vCPU guest most of it is the vCPU wake-up.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*WakeRoundTrip*' --job short</c></remarks>
[MemoryDiagnoser]
public unsafe class WakeRoundTripBenchmarks
{
    private const Token Ping = (Token)1;
    private const Token Pong = (Token)2;
    private Poll _mine = null!;
    private Poll _partners = null!;
    private Waker _wakeMine = null!;
    private Waker _wakePartner = null!;
    private Events _events = null!;
    private Thread _partner = null!;
    private Thread _rawPartner = null!;
    private volatile bool _stopping;
    private int _rawMineEpoll;
    private int _rawPartnerEpoll;
    private FdHandle _rawMineEventFd = null!;
    private FdHandle _rawPartnerEventFd = null!;

    [GlobalSetup]
    public void Setup()
    {
        _mine = new Poll();
        _partners = new Poll();
        _wakeMine = new Waker(_mine.Registry, Pong);
        _wakePartner = new Waker(_partners.Registry, Ping);
        _events = new Events(4);
        _partner = new Thread(PartnerLoop) { IsBackground = true, Name = "wake partner" };
        _partner.Start();

        _rawMineEpoll = epoll_create1(EPOLL_CLOEXEC);
        _rawPartnerEpoll = epoll_create1(EPOLL_CLOEXEC);
        _rawMineEventFd = EventFd.Create();
        _rawPartnerEventFd = EventFd.Create();
        Add(_rawMineEpoll, _rawMineEventFd.Fd, (ulong)Pong);
        Add(_rawPartnerEpoll, _rawPartnerEventFd.Fd, (ulong)Ping);
        _rawPartner = new Thread(RawPartnerLoop) { IsBackground = true, Name = "raw wake partner" };
        _rawPartner.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopping = true;
        _wakePartner.Wake();
        Signal(_rawPartnerEventFd.Fd);
        _partner.Join();
        _rawPartner.Join();
        _wakeMine.Dispose();
        _wakePartner.Dispose();
        _mine.Dispose();
        _partners.Dispose();
        close(_rawMineEpoll);
        close(_rawPartnerEpoll);
        _rawMineEventFd.Dispose();
        _rawPartnerEventFd.Dispose();
    }

    [Benchmark(Baseline = true, Description = "eventfd write -> epoll_wait (EPOLLET), and back")]
    public ulong Raw()
    {
        Signal(_rawPartnerEventFd.Fd);
        return WaitRaw(_rawMineEpoll, (ulong)Pong);
    }

    [Benchmark(Description = "Waker.Wake -> Poll.Wait, and back")]
    public Token Polling()
    {
        _wakePartner.Wake();
        return WaitFor(_mine, _events, Pong);
    }

    private void PartnerLoop()
    {
        var events = new Events(4);
        while (true)
        {
            WaitFor(_partners, events, Ping);
            if (_stopping)
            {
                return;
            }

            _wakeMine.Wake();
        }
    }

    private void RawPartnerLoop()
    {
        while (true)
        {
            WaitRaw(_rawPartnerEpoll, (ulong)Ping);
            if (_stopping)
            {
                return;
            }

            Signal(_rawMineEventFd.Fd);
        }
    }

    private static Token WaitFor(Poll poll, Events events, Token expected)
    {
        if (poll.Wait(events, TimeSpan.FromSeconds(10)) != 1 || events[0].Token != expected)
        {
            throw new InvalidOperationException($"expected one wake-up for token {(ulong)expected}, got {events.Count} events");
        }

        return expected;
    }

    private static ulong WaitRaw(int epoll, ulong expected)
    {
        epoll_event ev;
        int n;
        do
        {
            n = epoll_wait(epoll, &ev, 1, 10_000);
        }
        while (n < 0 && errno == EINTR);

        if (n != 1 || ev.data.u64 != expected)
        {
            throw new InvalidOperationException($"expected one raw wake-up for {expected}, epoll_wait returned {n}");
        }

        return ev.data.u64;
    }

    private static void Signal(int eventFd)
    {
        ulong one = 1;
        if (write(eventFd, &one, sizeof(ulong)) != sizeof(ulong))
        {
            throw new InvalidOperationException($"eventfd write failed (errno {errno})");
        }
    }

    private static void Add(int epoll, int fd, ulong data)
    {
        epoll_event ev = default;
        ev.events = unchecked((int)(EpollFlags.In | EpollFlags.EdgeTriggered));
        ev.data.u64 = data;
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl failed (errno {errno})");
        }
    }
}
