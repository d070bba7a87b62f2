using BenchmarkDotNet.Attributes;

namespace Polling.Benchmarks;

/// <summary>
/// The timer wheel's hot path with 10,000 idle timeouts scheduled (one per connection): rescheduling one on
/// every read, and scheduling then cancelling one (a short-lived connection). Both O(1) and allocation-free.
/// </summary>
/// <example>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*TimerWheel*' --job short</example>
[MemoryDiagnoser]
public class TimerWheelBenchmarks
{
    private const int Connections = 10_000;
    private readonly TimerKey[] _keys = new TimerKey[Connections];
    private TimerWheel _wheel = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _wheel = new TimerWheel(Connections * 2);
        var random = new Random(1);
        for (int i = 0; i < Connections; i++)
        {
            _keys[i] = _wheel.Schedule((Token)(ulong)i, TimeSpan.FromSeconds(30 + random.Next(30)));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _wheel.Dispose();

    [Benchmark(Description = "Reschedule (idle timeout on a read)")]
    public bool Reschedule()
    {
        _next = (_next + 7919) % Connections;
        bool live = _wheel.Reschedule(_keys[_next], TimeSpan.FromSeconds(30));
        Require.That(live, "Reschedule of a live key");
        return live;
    }

    [Benchmark(Description = "Schedule + Cancel")]
    public bool ScheduleAndCancel()
    {
        TimerKey key = _wheel.Schedule((Token)1, TimeSpan.FromSeconds(5));
        bool cancelled = _wheel.Cancel(key);
        Require.That(cancelled, "Cancel of the key just scheduled");
        return cancelled;
    }
}
