using System.Threading.Channels;

namespace Polling.Actors;

/// <summary>
/// An actor: private state, a mailbox, and <see cref="ReceiveAsync"/>, called for one message at a time in the
/// order they arrived. Actors share nothing; they talk by sending messages to each other's
/// <see cref="ActorRef{TMessage}"/>. Start one with <see cref="Actor.Spawn{TMessage}"/>.
/// </summary>
/// <remarks>
/// <para><b>Mailbox.</b> A bounded <see cref="System.Threading.Channels"/> channel. A full mailbox is back-pressure
/// the sender can see: <see cref="ActorRef{TMessage}.TrySend"/> returns <see langword="false"/> (and counts it),
/// <see cref="ActorRef{TMessage}.SendAsync"/> waits for room. The bound is what keeps a slow actor from growing
/// without limit.</para>
/// <para><b>Threads.</b> Messages are processed on thread-pool threads, never two at once for one actor; state
/// touched only from <see cref="ReceiveAsync"/> needs no locks. An exception from <see cref="ReceiveAsync"/> stops
/// the actor (<see cref="ActorRef{TMessage}.Completion"/> faults).</para>
/// </remarks>
/// <example>
/// <code>
/// sealed class Counter : Actor&lt;int&gt;
/// {
///     private int _total;
///     protected override ValueTask ReceiveAsync(int n) { _total += n; return ValueTask.CompletedTask; }
/// }
/// ActorRef&lt;int&gt; counter = Actor.Spawn(new Counter(), mailboxCapacity: 100);
/// counter.TrySend(5);
/// </code>
/// </example>
/// <typeparam name="TMessage">What the actor receives; usually an abstract record with one subtype per message.</typeparam>
public abstract class Actor<TMessage>
{
    private ActorRef<TMessage>? _self;
    private bool _stopRequested;

    /// <summary>This actor's address, to hand to others so they can reply.</summary>
    /// <exception cref="InvalidOperationException">The actor was not spawned.</exception>
    public ActorRef<TMessage> Self => _self ?? throw new InvalidOperationException("The actor has no mailbox yet: start it with Actor.Spawn (or let an ActorServer start it).");

    /// <summary>Handles one message. The next one is not taken before the returned task completes.</summary>
    /// <param name="message">The message.</param>
    protected abstract ValueTask ReceiveAsync(TMessage message);

    /// <summary>Stops the actor once the current message is handled: its mailbox is closed, later sends are refused.</summary>
    protected void Stop() => _stopRequested = true;

    /// <summary>Called before each message is taken: a connection actor waits here while its socket is congested.</summary>
    internal virtual ValueTask BeforeTakeAsync() => ValueTask.CompletedTask;

    /// <summary>Called right after a message was taken from the mailbox (room was made).</summary>
    internal virtual void AfterTake()
    {
    }

    internal ActorRef<TMessage> Start(int mailboxCapacity)
    {
        if (_self is not null)
        {
            throw new InvalidOperationException("This actor is already running; spawn a new instance instead.");
        }

        Channel<TMessage> mailbox = Channel.CreateBounded<TMessage>(new BoundedChannelOptions(mailboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _self = new ActorRef<TMessage>(mailbox, mailboxCapacity, completion.Task);
        _ = Task.Run(() => RunAsync(mailbox, completion));
        return _self;
    }

    private async Task RunAsync(Channel<TMessage> mailbox, TaskCompletionSource completion)
    {
        ChannelReader<TMessage> reader = mailbox.Reader;
        try
        {
            while (!_stopRequested && await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!_stopRequested)
                {
                    await BeforeTakeAsync().ConfigureAwait(false);
                    if (!reader.TryRead(out TMessage? message))
                    {
                        break;
                    }

                    AfterTake();
                    await ReceiveAsync(message).ConfigureAwait(false);
                }
            }

            mailbox.Writer.TryComplete();
            completion.TrySetResult();
        }
        catch (Exception error)
        {
            mailbox.Writer.TryComplete(error);
            completion.TrySetException(error);
        }
    }
}

/// <summary>Starts actors.</summary>
/// <example>
/// <code>
/// ActorRef&lt;RoomMessage&gt; room = Actor.Spawn(new Room(), mailboxCapacity: 4096);
/// </code>
/// </example>
public static class Actor
{
    /// <summary>Gives <paramref name="actor"/> a mailbox of <paramref name="mailboxCapacity"/> messages and starts it.</summary>
    /// <param name="actor">A new actor instance.</param>
    /// <param name="mailboxCapacity">Messages the mailbox holds before senders are refused or wait; at least 1.</param>
    /// <typeparam name="TMessage">What the actor receives.</typeparam>
    /// <returns>The actor's address.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mailboxCapacity"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">The actor is already running.</exception>
    public static ActorRef<TMessage> Spawn<TMessage>(Actor<TMessage> actor, int mailboxCapacity)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentOutOfRangeException.ThrowIfLessThan(mailboxCapacity, 1);
        return actor.Start(mailboxCapacity);
    }
}
