using System.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Polling.Net;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Benchmarks;

/// <summary>
/// <see cref="Poll.Wait"/> and <see cref="Registry.Register"/>+<see cref="Registry.Deregister"/> next to the same raw
/// system calls in the same run (baseline = raw, so Ratio is Polling's overhead). Results are checked: a Wait must
/// report its one ready source, every epoll_ctl must succeed.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*LoopBaseline*' --job short</c></remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class LoopBaselineBenchmarks
{
    private Poll _poll = null!;
    private Events _events = null!;
    private int _rawEpoll;
    private FdHandle _readyEventFd = null!;
    private epoll_event[] _rawEvents = null!;
    private TcpStream _client = null!;
    private TcpStream _server = null!;
    private int _serverFd;

    [GlobalSetup]
    public void Setup()
    {
        _poll = new Poll();
        _events = new Events(64);
        _rawEvents = new epoll_event[64];
        _rawEpoll = epoll_create1(EPOLL_CLOEXEC);
        _readyEventFd = EventFd.Create();
        ulong one = 1;
        write(_readyEventFd.Fd, &one, sizeof(ulong));   // stays readable: level-triggered, never read
        _poll.Registry.Register(new SourceFd(_readyEventFd.Fd), (Token)1, Interest.Readable, Trigger.Level);
        epoll_event ev = default;
        ev.events = (int)EpollFlags.In;
        ev.data.u64 = 1;
        Check(epoll_ctl(_rawEpoll, EPOLL_CTL_ADD, _readyEventFd.Fd, &ev), "epoll_ctl ADD");
        (_client, _server) = TcpPair.Connect();
        _serverFd = (int)_server.Handle.DangerousGetHandle();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
        _poll.Dispose();
        _readyEventFd.Dispose();
        close(_rawEpoll);
    }

    // ---- Wait: one level-triggered source ready, timeout 0 ----

    [Benchmark(Baseline = true, Description = "epoll_wait, 1 ready")]
    [BenchmarkCategory("Wait")]
    public int RawWait()
    {
        fixed (epoll_event* events = _rawEvents)
        {
            int n = epoll_wait(_rawEpoll, events, _rawEvents.Length, 0);
            return n == 1 ? n : throw new InvalidOperationException($"epoll_wait returned {n}");
        }
    }

    [Benchmark(Description = "Poll.Wait, 1 ready")]
    [BenchmarkCategory("Wait")]
    public int PollingWait()
    {
        int n = _poll.Wait(_events, TimeSpan.Zero);
        return n == 1 ? n : throw new InvalidOperationException($"Wait returned {n}");
    }

    // ---- Register + Deregister of a TCP socket ----

    [Benchmark(Baseline = true, Description = "epoll_ctl ADD + DEL")]
    [BenchmarkCategory("Register")]
    public void RawRegister()
    {
        epoll_event ev = default;
        ev.events = unchecked((int)(EpollFlags.In | EpollFlags.RdHup | EpollFlags.EdgeTriggered));
        ev.data.u64 = 2;
        Check(epoll_ctl(_rawEpoll, EPOLL_CTL_ADD, _serverFd, &ev), "epoll_ctl ADD");
        Check(epoll_ctl(_rawEpoll, EPOLL_CTL_DEL, _serverFd, null), "epoll_ctl DEL");
    }

    [Benchmark(Description = "Registry.Register + Deregister (TcpStream)")]
    [BenchmarkCategory("Register")]
    public void PollingRegister()
    {
        _poll.Registry.Register(_server, (Token)2, Interest.Readable);
        _poll.Registry.Deregister(_server);
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{call} failed (errno {errno})");
        }
    }
}

/// <summary>A connected loopback TCP pair of Polling streams with TCP_NODELAY.</summary>
internal static class TcpPair
{
    public static (TcpStream Client, TcpStream Server) Connect()
    {
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var acceptPoll = new Poll();
        var events = new Events(1);
        acceptPoll.Registry.Register(listener, (Token)0, Interest.Readable, Trigger.Level);
        TcpStream client = TcpStream.Connect(listener.LocalEndPoint);
        TcpStream? server;
        while (!listener.TryAccept(out server))
        {
            acceptPoll.Wait(events, TimeSpan.FromSeconds(1));
        }

        client.NoDelay = true;
        server.NoDelay = true;
        return (client, server);
    }
}
