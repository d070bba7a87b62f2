using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Polling;

/// <summary>
/// A <see cref="System.Threading.Channels"/> channel whose reading end is a source: any thread — plain
/// threads, thread-pool work, async code — writes with the ordinary <see cref="ChannelWriter{T}"/> in
/// <see cref="Writer"/>; the loop registers the source, gets a Readable event for its token and drains
/// it with <see cref="TryRead"/> until that returns <see langword="false"/>. This is how results, commands
/// and shutdown requests get into a loop without callbacks or locks. Create one with
/// <see cref="ChannelSource.CreateUnbounded{T}()"/> or <see cref="ChannelSource.CreateBounded{T}(int)"/>.
/// </summary>
/// <remarks>
/// <para><b>Readiness.</b> The source is ready while the channel holds messages, and for good once the
/// channel is completed and drained. With <see cref="Trigger.Edge"/> (the default) read until
/// <see cref="TryRead"/> returns <see langword="false"/>; a message written after that always produces a
/// new event (no lost wake-up). <see cref="Trigger.Level"/> reports the source on every wait while it is
/// ready; <see cref="Trigger.Oneshot"/> once, until <c>Reregister</c>, which re-evaluates readiness. Only
/// <see cref="Interest.Readable"/> may be registered. Spurious events can happen; a <see cref="TryRead"/>
/// returning <see langword="false"/> at once is normal.</para>
/// <para><b>Cost.</b> Wakes coalesce: a writer writes the source's eventfd only when the loop has run dry
/// and asked to be woken, so a burst of thousands of messages costs one or two eventfd writes, and a loop
/// that keeps up costs none per message. Writing and reading allocate nothing beyond what the channel itself
/// needs (nothing, for value types, once its buffer has grown); see <see cref="NotificationCount"/>.</para>
/// <para><b>Completion.</b> <c>Writer.Complete()</c> or <c>Writer.Complete(exception)</c> produces an event;
/// once the messages written before it are read, <see cref="TryRead"/> returns <see langword="false"/>,
/// <see cref="IsCompleted"/> is <see langword="true"/> and <see cref="CompletionError"/> holds the exception
/// (if any). Check <see cref="IsCompleted"/> after <see cref="TryRead"/> returned <see langword="false"/>: if
/// it is still <see langword="false"/>, a later completion produces an event.</para>
/// <para><b>Threads.</b> <see cref="Writer"/> is for any number of threads. <see cref="TryRead"/> is for the
/// one loop thread that owns the source (the channel is created for a single reader). With
/// <c>AllowSynchronousContinuations</c>, a writer waiting on a full bounded channel may resume inline on the
/// loop thread inside <see cref="TryRead"/>; leave it off unless you know the continuation is short.</para>
/// <para><b>How the wake protocol works.</b> A writer publishes its message and then, after a full fence,
/// reads a flag that the loop sets when it has found the channel empty; only the writer that flips the flag
/// writes the eventfd. The loop, after finding the channel empty, sets the flag (full fence) and looks at the
/// channel <i>once more</i>; a message found then costs nothing more. Before it returns <see langword="false"/>
/// it resets the eventfd if a wake may have been sent, sets the flag again and takes a last look — reset before
/// that arm, so a wake the reset swallows belongs to a message that the last look sees. The fences make it
/// impossible for the writer to miss the flag and the loop to miss the message at the same time.</para>
/// <para><see cref="Dispose"/> deregisters the source, closes its eventfd and completes the channel with an
/// <see cref="ObjectDisposedException"/>: later writes fail (<c>TryWrite</c> returns <see langword="false"/>,
/// <c>WriteAsync</c> throws <see cref="ChannelClosedException"/>) and waiting writers are released.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>. Members list
/// only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Results = (Token)1;
/// using var poll = new Poll();
/// using var results = ChannelSource.CreateUnbounded&lt;int&gt;();
/// poll.Registry.Register(results, Results, Interest.Readable);
///
/// _ = Task.Run(async () =>
/// {
///     await Task.Delay(100);
///     await results.Writer.WriteAsync(42);     // any thread, any time
///     results.Writer.Complete();
/// });
///
/// var events = new Events(64);
/// while (!results.IsCompleted)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///         if (ev.Token == Results)
///             while (results.TryRead(out int value)) Console.WriteLine(value);
/// }
/// </code>
/// </example>
/// <typeparam name="T">The message type; a value type avoids allocation per message.</typeparam>
public sealed class ChannelSource<T> : ISource, IDisposable
{
    private readonly ChannelReader<T> _reader;
    private readonly ChannelWriter<T> _innerWriter;
    private readonly Notifier _notifier;
    private readonly string _description;
    private readonly object _completionLock = new();
    private bool _completionRequested;
    private Exception? _completionError;
    private bool _ended;

    internal ChannelSource(Channel<T> channel, string description)
    {
        _reader = channel.Reader;
        _innerWriter = channel.Writer;
        _description = description;
        _notifier = new Notifier(this);
        Writer = new ChannelSourceWriter<T>(this, channel.Writer, _notifier);
    }

    /// <summary>
    /// The writing end, for any thread: <c>TryWrite</c>, <c>WriteAsync</c>, <c>WaitToWriteAsync</c> and
    /// <c>Complete</c> behave exactly as the underlying channel's, and each successful write or completion
    /// makes sure the loop gets an event.
    /// </summary>
    public ChannelWriter<T> Writer { get; }

    /// <summary>The eventfd, for tests that check Dispose closed it.</summary>
    internal Polling.Os.FdHandle Handle => _notifier.Handle;

    /// <summary>
    /// <see langword="true"/> once the writer completed the channel and every message was read:
    /// <see cref="TryRead"/> will never return a message again.
    /// </summary>
    public bool IsCompleted => _reader.Completion.IsCompleted;

    /// <summary>
    /// Completes when <see cref="IsCompleted"/> becomes <see langword="true"/>; faulted if the writer completed
    /// the channel with an exception (canceled for an <see cref="OperationCanceledException"/>). For code
    /// outside the loop that wants to await the end of the stream.
    /// </summary>
    public Task Completion => _reader.Completion;

    /// <summary>
    /// The exception passed to <c>Writer.Complete(exception)</c>, once <see cref="IsCompleted"/>;
    /// <see langword="null"/> before that and when the channel was completed without one.
    /// </summary>
    public Exception? CompletionError => IsCompleted ? Volatile.Read(ref _completionError) : null;

    /// <summary>
    /// How many times writers actually woke the loop (wrote the eventfd), for diagnostics and tests: with
    /// coalescing this stays far below the number of messages.
    /// </summary>
    public long NotificationCount => _notifier.Writes;

    /// <summary>
    /// Takes the next message. Returns <see langword="false"/> when the channel is empty right now, or
    /// completed and drained (<see cref="IsCompleted"/>); a message written after a <see langword="false"/>
    /// always produces a new event. Allocates nothing; call it on the loop thread only.
    /// </summary>
    /// <param name="item">The message, when the result is <see langword="true"/>.</param>
    public bool TryRead([MaybeNullWhen(false)] out T item)
    {
        _notifier.ThrowIfDisposed("read from");
        return _reader.TryRead(out item) || TryReadWhenEmpty(out item);
    }

    /// <summary>Deregisters the source, closes its eventfd and completes the channel so writers stop. Idempotent.</summary>
    public void Dispose()
    {
        if (_notifier.IsDisposed)
        {
            return;
        }

        TryComplete(new ObjectDisposedException(ToString(), $"{this} was disposed: its loop reads no more messages."));
        _notifier.Dispose();
    }

    /// <summary>Returns e.g. <c>ChannelSource&lt;Int32&gt;(bounded 100, Wait)</c>.</summary>
    public override string ToString() => $"ChannelSource<{typeof(T).Name}>({_description})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _notifier.Register(registry, token, interest, trigger);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _notifier.Reregister(registry, token, interest, trigger);

    void ISource.Deregister(Registry registry) => _notifier.Deregister(registry);

    /// <summary>Completes the channel once, recording <paramref name="error"/> before readers can see the completion.</summary>
    internal bool TryComplete(Exception? error)
    {
        lock (_completionLock)
        {
            if (_completionRequested)
            {
                return false;
            }

            Volatile.Write(ref _completionError, error);
            _completionRequested = _innerWriter.TryComplete(error);
            return _completionRequested;
        }
    }

    /// <summary>The slow path of <see cref="TryRead"/>: the channel looked empty (see the remarks for the protocol).</summary>
    private bool TryReadWhenEmpty([MaybeNullWhen(false)] out T item)
    {
        if (_ended || _reader.Completion.IsCompleted)
        {
            return End(out item);
        }

        if (_notifier.TryTakeWhenEmpty(new Pending(_reader), out item))
        {
            return true;
        }

        if (_reader.Completion.IsCompleted)
        {
            return End(out item);
        }

        _notifier.Rearm();
        return false;
    }

    /// <summary>The channel's reader as the notifier's data.</summary>
    private readonly struct Pending(ChannelReader<T> reader) : Notifier.IPending<T>
    {
        public bool TryTake([MaybeNullWhen(false)] out T item) => reader.TryRead(out item);
    }

    /// <summary>The channel is completed and drained: stay readable for good, and read nothing.</summary>
    private bool End([MaybeNullWhen(false)] out T item)
    {
        if (!_ended)
        {
            _ended = true;
            _notifier.StayReady();
        }

        item = default;
        return false;
    }
}
