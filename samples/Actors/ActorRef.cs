using System.Threading.Channels;

namespace Polling.Actors;

/// <summary>
/// The address of an actor: the one way to reach it. Thread-safe. Sending never runs the actor's code on the
/// sender's thread.
/// </summary>
/// <example>
/// <code>
/// if (!member.TrySend(new Deliver(line)))
///     dropped++;                         // its mailbox is full: it reads too slowly
/// await room.SendAsync(new Say(nick, text));   // or wait for room
/// </code>
/// </example>
/// <typeparam name="TMessage">What the actor receives.</typeparam>
public sealed class ActorRef<TMessage>
{
    private readonly Channel<TMessage> _mailbox;
    private long _refused;

    internal ActorRef(Channel<TMessage> mailbox, int capacity, Task completion)
    {
        _mailbox = mailbox;
        MailboxCapacity = capacity;
        Completion = completion;
    }

    /// <summary>Messages waiting in the mailbox now.</summary>
    public int MailboxCount => _mailbox.Reader.Count;

    /// <summary>The most messages the mailbox holds.</summary>
    public int MailboxCapacity { get; }

    /// <summary>Sends refused by <see cref="TrySend"/> because the mailbox was full or the actor stopped.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Completes when the actor has stopped (faulted if its <c>ReceiveAsync</c> threw).</summary>
    public Task Completion { get; }

    /// <summary>Puts <paramref name="message"/> in the mailbox if there is room; <see langword="false"/> if it is full or the actor stopped.</summary>
    /// <param name="message">The message.</param>
    public bool TrySend(TMessage message)
    {
        if (_mailbox.Writer.TryWrite(message))
        {
            return true;
        }

        Interlocked.Increment(ref _refused);
        return false;
    }

    /// <summary>Puts <paramref name="message"/> in the mailbox, waiting while it is full; <see langword="false"/> if the actor stopped.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<bool> SendAsync(TMessage message, CancellationToken cancellationToken = default)
    {
        ChannelWriter<TMessage> writer = _mailbox.Writer;
        while (await writer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            if (writer.TryWrite(message))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Closes the mailbox: messages already in it are still handled, then the actor stops; later sends are refused.</summary>
    public void Complete() => _mailbox.Writer.TryComplete();
}
