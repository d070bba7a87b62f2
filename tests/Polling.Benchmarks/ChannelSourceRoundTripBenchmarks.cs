using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;

namespace Polling.Benchmarks;

/// <summary>
/// Messages between two threads and back: a requester writes <see cref="Batch"/> messages, the other side
/// receives them and answers with one reply, the requester waits for it. Timed per round (one batch there,
/// one reply back).
/// Baseline: plain <see cref="Channel{T}"/>s with an async <c>ReadAsync</c> loop on each side.
/// Polling: <see cref="ChannelSource{T}"/>s, each side a loop that waits in its own <see cref="Poll"/> and drains
/// with <c>TryRead</c> — the worker-offload pattern. Also the do-it-yourself alternative inside a Polling loop:
/// a <see cref="ConcurrentQueue{T}"/> plus <see cref="Waker.Wake"/> after every message (an eventfd write each).
/// Batch 1 is a pure ping-pong (a wake-up per message on both sides); batch 100 shows what coalesced wakes are
/// worth. The cleanup prints how many eventfd writes the channel sources needed per round.
/// </summary>
/// <example>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*ChannelSourceRoundTrip*' --job short</example>
[MemoryDiagnoser]
public class ChannelSourceRoundTripBenchmarks
{
    private const int Rounds = 200;
    private const Token Requests = (Token)1;
    private const Token Replies = (Token)2;

    private Channel<int> _plainRequests = null!;
    private Channel<int> _plainReplies = null!;
    private Task _plainEcho = null!;

    private ChannelSource<int> _requests = null!;
    private ChannelSource<int> _replies = null!;
    private Poll _loopPoll = null!;
    private Poll _clientPoll = null!;
    private Events _clientEvents = null!;
    private Thread _loop = null!;

    private ConcurrentQueue<int> _queueRequests = null!;
    private ConcurrentQueue<int> _queueReplies = null!;
    private Poll _queueLoopPoll = null!;
    private Poll _queueClientPoll = null!;
    private Waker _queueLoopWaker = null!;
    private Waker _queueClientWaker = null!;
    private Thread _queueLoop = null!;
    private volatile bool _queueStop;
    private long _rounds;

    /// <summary>Messages per reply.</summary>
    [Params(1, 100)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var single = new UnboundedChannelOptions { SingleReader = true };
        _plainRequests = Channel.CreateUnbounded<int>(single);
        _plainReplies = Channel.CreateUnbounded<int>(single);
        int batch = Batch;
        _plainEcho = Task.Run(async () =>
        {
            int received = 0;
            while (await _plainRequests.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (_plainRequests.Reader.TryRead(out _))
                {
                    if (++received == batch)
                    {
                        received = 0;
                        Require.That(_plainReplies.Writer.TryWrite(0), "Channel reply TryWrite");
                    }
                }
            }
        });

        _requests = ChannelSource.CreateUnbounded<int>();
        _replies = ChannelSource.CreateUnbounded<int>();
        _loopPoll = new Poll();
        _clientPoll = new Poll();
        _clientEvents = new Events(4);
        _loopPoll.Registry.Register(_requests, Requests, Interest.Readable);
        _clientPoll.Registry.Register(_replies, Replies, Interest.Readable);
        _loop = new Thread(() =>
        {
            var events = new Events(4);
            int received = 0;
            while (true)
            {
                _loopPoll.Wait(events);
                while (_requests.TryRead(out _))
                {
                    if (++received == batch)
                    {
                        received = 0;
                        Require.That(_replies.Writer.TryWrite(0), "ChannelSource reply TryWrite");
                    }
                }

                if (_requests.IsCompleted)
                {
                    return;
                }
            }
        }) { IsBackground = true, Name = "benchmark loop" };
        _loop.Start();

        _queueRequests = new ConcurrentQueue<int>();
        _queueReplies = new ConcurrentQueue<int>();
        _queueLoopPoll = new Poll();
        _queueClientPoll = new Poll();
        _queueLoopWaker = new Waker(_queueLoopPoll.Registry, Requests);
        _queueClientWaker = new Waker(_queueClientPoll.Registry, Replies);
        _queueLoop = new Thread(() =>
        {
            var events = new Events(4);
            int received = 0;
            while (!_queueStop)
            {
                _queueLoopPoll.Wait(events);
                while (_queueRequests.TryDequeue(out _))
                {
                    if (++received == batch)
                    {
                        received = 0;
                        _queueReplies.Enqueue(0);
                        _queueClientWaker.Wake();
                    }
                }
            }
        }) { IsBackground = true, Name = "benchmark queue loop" };
        _queueLoop.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plainRequests.Writer.Complete();
        _plainEcho.Wait();
        _requests.Writer.Complete();
        _loop.Join();
        if (_rounds > 0)
        {
            Console.WriteLine($"// ChannelSource eventfd writes per round (batch {Batch}): requests {(double)_requests.NotificationCount / _rounds:F2}, replies {(double)_replies.NotificationCount / _rounds:F2}");
        }

        _queueStop = true;
        _queueLoopWaker.Wake();
        _queueLoop.Join();
        _queueLoopWaker.Dispose();
        _queueClientWaker.Dispose();
        _queueLoopPoll.Dispose();
        _queueClientPoll.Dispose();
        _requests.Dispose();
        _replies.Dispose();
        _loopPoll.Dispose();
        _clientPoll.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rounds, Description = "Channel<T> + ReadAsync loop")]
    public async Task PlainChannel()
    {
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < Batch; i++)
            {
                Require.That(_plainRequests.Writer.TryWrite(i), "Channel request TryWrite");
            }

            await _plainReplies.Reader.ReadAsync().ConfigureAwait(false);
        }
    }

    [Benchmark(OperationsPerInvoke = Rounds, Description = "ChannelSource + Poll loop")]
    public void ChannelSourceThroughPoll()
    {
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < Batch; i++)
            {
                Require.That(_requests.Writer.TryWrite(i), "ChannelSource request TryWrite");
            }

            while (!_replies.TryRead(out _))
            {
                _clientPoll.Wait(_clientEvents);
            }
        }

        _rounds += Rounds;
    }

    [Benchmark(OperationsPerInvoke = Rounds, Description = "ConcurrentQueue + Waker per message")]
    public void QueueAndWaker()
    {
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < Batch; i++)
            {
                _queueRequests.Enqueue(i);
                _queueLoopWaker.Wake();
            }

            while (!_queueReplies.TryDequeue(out _))
            {
                _queueClientPoll.Wait(_clientEvents);
            }
        }
    }
}
