using System.Threading.Channels;
using BenchmarkDotNet.Attributes;

namespace Polling.Benchmarks;

/// <summary>
/// The cost of the wake machinery on one thread: write a message, wait (without blocking), drain. With a
/// <see cref="ChannelSource{T}"/> every round is a full cycle — an eventfd write by the writer (the loop had
/// run dry), <c>epoll_wait</c>, the drain, and the eventfd reset when the drain finds the channel empty.
/// Baseline: the bare channel's <c>TryWrite</c> + <c>TryRead</c>, which wakes nobody.
/// </summary>
/// <example>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*ChannelSourceLoop*' --job short</example>
[MemoryDiagnoser]
public class ChannelSourceLoopBenchmarks
{
    private readonly Channel<int> _plain = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Events _events = new(4);
    private ChannelSource<int> _source = null!;
    private Poll _poll = null!;

    [GlobalSetup]
    public void Setup()
    {
        _poll = new Poll();
        _source = ChannelSource.CreateUnbounded<int>();
        _poll.Registry.Register(_source, (Token)1, Interest.Readable);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _source.Dispose();
        _poll.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Channel<T> TryWrite+TryRead")]
    public int PlainChannel()
    {
        Require.That(_plain.Writer.TryWrite(1), "Channel TryWrite");
        Require.That(_plain.Reader.TryRead(out int item) && item == 1, "Channel TryRead returns the item");
        return item;
    }

    [Benchmark(Description = "ChannelSource TryWrite+Wait(0)+drain")]
    public int ChannelSourceCycle()
    {
        Require.That(_source.Writer.TryWrite(1), "ChannelSource TryWrite");
        Require.That(_poll.Wait(_events, TimeSpan.Zero) == 1, "Wait reports the ChannelSource readable");
        int sum = 0;
        while (_source.TryRead(out int item))
        {
            sum += item;
        }

        Require.That(sum == 1, "the drain reads exactly the one item");
        return sum;
    }
}
