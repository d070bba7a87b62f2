using Polling;

namespace Polling.Services;

/// <summary>
/// The Polling event loop that servers and clients of this library run on: one <see cref="Polling.Poll"/>, one
/// <see cref="TimerWheel"/> (the <see cref="IServiceTimer"/> that timeout filters use), and a channel through which other
/// threads hand work in. The thread that runs it is the only one that touches its sockets.
/// </summary>
/// <remarks>
/// <para><b>The loop stays yours.</b> <see cref="Run()"/> is nothing but <c>Poll.Wait</c> and
/// <see cref="Dispatch"/> for each event. To run your own sources next to the library's, register them on
/// <see cref="Registry"/> with tokens below <see cref="FirstLoopToken"/> and write the loop yourself: wait, switch
/// on your tokens, and pass every other event to <see cref="Dispatch"/>, which returns <see langword="false"/>
/// for tokens it does not own.</para>
/// <para><b>Threads.</b> <see cref="Run()"/>, <see cref="RunOnce"/>, <see cref="Dispatch"/>,
/// <see cref="Schedule"/> and <see cref="Cancel"/> belong to the loop thread — the thread that last called
/// <see cref="Run()"/> or <see cref="RunOnce"/> (before that, the one that made the loop; after <see cref="Run()"/>
/// returned, whichever thread tears it down); from other threads
/// <see cref="Schedule"/> and <see cref="Cancel"/> throw <see cref="InvalidOperationException"/>.
/// <see cref="Stop"/> is for any thread; a <see cref="ServiceClient{TRequest,TResponse}"/> may be called from any thread.</para>
/// </remarks>
/// <example>
/// <code>
/// using var loop = new ServiceLoop();
/// using var server = new ServiceServer&lt;HttpRequest, HttpResponse&gt;(loop, endpoint, new HttpServerCodec(), app);
/// loop.Run();                              // until loop.Stop()
///
/// // or your own loop around it:
/// var events = new Events(256);
/// while (running)
/// {
///     loop.Poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         if (ev.Token == MyTimer) { ... }
///         else loop.Dispatch(ev);
///     }
/// }
/// </code>
/// </example>
public sealed class ServiceLoop : IServiceTimer, IDisposable
{
    /// <summary>Tokens from this value up belong to the loop; register your own sources below it.</summary>
    public const ulong FirstLoopToken = 1UL << 62;

    private const Token WheelToken = (Token)FirstLoopToken;
    private const Token WorkToken = (Token)(FirstLoopToken + 1);
    private const Token StopToken = (Token)(FirstLoopToken + 2);
    private const ulong FirstHandlerToken = FirstLoopToken + 16;
    private const int NoOwner = 0;

    private readonly Events _events;
    private readonly TimerWheel _wheel = new(1024);
    private readonly Token[] _expired = new Token[64];
    private readonly ChannelSource<ILoopWork> _work = ChannelSource.CreateUnbounded<ILoopWork>();
    private readonly Waker _stop;
    private readonly Stack<int> _freeHandlers = new();
    private readonly Stack<int> _freeTimers = new();
    private ILoopHandler?[] _handlers = new ILoopHandler?[64];
    private int _handlerCount;
    private TimerEntry[] _timers = new TimerEntry[64];
    private int _timerCount;
    private int _ownerThread = Environment.CurrentManagedThreadId;
    private volatile bool _stopping;
    private bool _disposed;

    /// <summary>Creates the loop with its <see cref="Polling.Poll"/>, timer wheel and work channel.</summary>
    /// <param name="eventCapacity">Events taken per <c>Wait</c>.</param>
    public ServiceLoop(int eventCapacity = 1024)
    {
        Poll = new Poll();
        _events = new Events(eventCapacity);
        Poll.Registry.Register(_wheel, WheelToken, Interest.Readable);
        Poll.Registry.Register(_work, WorkToken, Interest.Readable);
        _stop = new Waker(Poll.Registry, StopToken);
    }

    /// <summary>The loop's <see cref="Polling.Poll"/>: wait on it yourself when you write the loop.</summary>
    public Poll Poll { get; }

    /// <summary>The registry, for your own sources (tokens below <see cref="FirstLoopToken"/>).</summary>
    public Registry Registry => Poll.Registry;

    /// <summary>Whether the calling thread is the loop thread.</summary>
    public bool IsLoopThread
    {
        get
        {
            int owner = Volatile.Read(ref _ownerThread);
            return owner == NoOwner || owner == Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>Sources the loop dispatches events to (listeners, connections).</summary>
    public int HandlerCount => _handlerCount - _freeHandlers.Count;

    /// <summary>Timer tasks scheduled and not yet run or cancelled.</summary>
    public int PendingTimers => _timerCount - _freeTimers.Count;

    /// <summary>Runs the loop on the calling thread until <see cref="Stop"/>.</summary>
    public void Run()
    {
        _stopping = false;
        try
        {
            while (!_stopping)
            {
                RunOnce();
            }
        }
        finally
        {
            // Stopped: no thread runs the loop now, so whoever tears it down (or runs it next) may act on it.
            Volatile.Write(ref _ownerThread, NoOwner);
        }
    }

    /// <summary>Runs the loop until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Stops the loop when cancelled.</param>
    public void Run(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Stop);
        if (!cancellationToken.IsCancellationRequested)
        {
            Run();
        }
    }

    /// <summary>One turn: waits for events (up to <paramref name="timeout"/>; null = until there are some) and dispatches them.</summary>
    /// <param name="timeout">How long to wait at most.</param>
    /// <returns>The number of events.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        Volatile.Write(ref _ownerThread, Environment.CurrentManagedThreadId);
        int count = Poll.Wait(_events, timeout);
        foreach (Event ev in _events)
        {
            Dispatch(ev);
        }

        return count;
    }

    /// <summary>
    /// Handles one event if its token is the loop's (at or above <see cref="FirstLoopToken"/>); returns
    /// <see langword="false"/> and does nothing otherwise. Call it on the loop thread.
    /// </summary>
    /// <param name="ev">An event from <c>Poll.Wait</c>.</param>
    public bool Dispatch(in Event ev)
    {
        ulong token = (ulong)ev.Token;
        if (token < FirstLoopToken)
        {
            return false;
        }

        switch (ev.Token)
        {
            case WheelToken:
                ExpireTimers();
                break;
            case WorkToken:
                while (_work.TryRead(out ILoopWork? work))
                {
                    work.Execute();
                }

                break;
            case StopToken:
                break;
            default:
                ulong slot = token - FirstHandlerToken;
                if (slot < (ulong)_handlerCount && _handlers[slot] is { } handler)
                {
                    handler.Handle(ev);
                }

                break;
        }

        return true;
    }

    /// <summary>Makes <see cref="Run()"/> return after the current turn. Any thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _stop.Wake();
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Not called on the loop thread.</exception>
    public TimerHandle Schedule(TimeSpan delay, ITimerTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        ThrowIfNotLoopThread("schedule a timer");
        int slot = _freeTimers.Count > 0 ? _freeTimers.Pop() : _timerCount++;
        if (slot == _timers.Length)
        {
            Array.Resize(ref _timers, _timers.Length * 2);
        }

        ref TimerEntry entry = ref _timers[slot];
        entry.Task = task;
        entry.Generation++;
        entry.Key = _wheel.Schedule((Token)(ulong)slot, delay < TimeSpan.Zero ? TimeSpan.Zero : delay);
        return new TimerHandle(((long)entry.Generation << 32) | (uint)slot);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Not called on the loop thread.</exception>
    public bool Cancel(TimerHandle handle)
    {
        ThrowIfNotLoopThread("cancel a timer");
        int slot = (int)(uint)handle.Value;
        int generation = (int)(handle.Value >> 32);
        if (slot >= _timerCount || _timers[slot].Task is null || _timers[slot].Generation != generation)
        {
            return false;
        }

        _wheel.Cancel(_timers[slot].Key);
        FreeTimer(slot);
        return true;
    }

    /// <summary>Closes the poll, the wheel and the work channel. Servers and clients on the loop should be disposed first.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _wheel.Dispose();
        _work.Dispose();
        _stop.Dispose();
        Poll.Dispose();
    }

    /// <summary>Registers <paramref name="handler"/> for the events of a token the loop hands out.</summary>
    internal Token Add(ILoopHandler handler)
    {
        int slot = _freeHandlers.Count > 0 ? _freeHandlers.Pop() : _handlerCount++;
        if (slot == _handlers.Length)
        {
            Array.Resize(ref _handlers, _handlers.Length * 2);
        }

        _handlers[slot] = handler;
        return (Token)(FirstHandlerToken + (ulong)slot);
    }

    /// <summary>Forgets a token from <see cref="Add"/>; late events for it are ignored until it is handed out again.</summary>
    internal void Remove(Token token)
    {
        int slot = (int)((ulong)token - FirstHandlerToken);
        _handlers[slot] = null;
        _freeHandlers.Push(slot);
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread soon. Any thread; false once the loop is disposed.</summary>
    internal bool Post(ILoopWork work) => _work.Writer.TryWrite(work);

    internal void ThrowIfNotLoopThread(string what)
    {
        if (!IsLoopThread)
        {
            throw new InvalidOperationException(
                $"Tried to {what} from thread {Environment.CurrentManagedThreadId}, but the ServiceLoop runs on thread {_ownerThread}: " +
                "do it from the loop thread (inside a service the server invokes, or through a ServiceClient, which posts for you).");
        }
    }

    private void ExpireTimers()
    {
        int count;
        do
        {
            count = _wheel.TakeExpired(_expired);
            for (int i = 0; i < count; i++)
            {
                int slot = (int)(ulong)_expired[i];
                ITimerTask? task = _timers[slot].Task;
                FreeTimer(slot);
                task?.Expire();
            }
        }
        while (count == _expired.Length);
    }

    private void FreeTimer(int slot)
    {
        _timers[slot].Task = null;
        _freeTimers.Push(slot);
    }

    private struct TimerEntry
    {
        public ITimerTask? Task;
        public TimerKey Key;
        public int Generation;
    }
}

/// <summary>A source's share of the loop: the events for the token <see cref="ServiceLoop"/> gave it.</summary>
internal interface ILoopHandler
{
    void Handle(in Event ev);
}

/// <summary>Work handed to the loop thread from another thread.</summary>
internal interface ILoopWork
{
    void Execute();
}
