namespace Polling.Actors;

/// <summary>Settings of an <see cref="ActorServer{TMessage,TReply}"/>.</summary>
/// <example>
/// <code>
/// new ActorServer&lt;ChatInput, string&gt;(endpoint, codecs, actors, new ActorServerOptions { MailboxCapacity = 128 });
/// </code>
/// </example>
public sealed class ActorServerOptions
{
    /// <summary>Messages a connection actor's mailbox holds. Default 64.</summary>
    public int MailboxCapacity { get; init; } = 64;

    /// <summary>Unsent reply bytes at which a connection counts as congested (its actor pauses). Default 64 KiB.</summary>
    public int HighWaterMark { get; init; } = 64 * 1024;

    /// <summary>Replies handed to the loop and not yet encoded at which a connection counts as congested. Default 1024.</summary>
    public int MaxRepliesWaiting { get; init; } = 1024;

    /// <summary><c>SO_SNDBUF</c> for accepted sockets; null leaves the kernel's auto-tuning. Smaller = congestion is seen sooner.</summary>
    public int? SendBufferSize { get; init; }

    /// <summary>Bytes read per system call (and the longest message a codec may need at once). Default 16 KiB.</summary>
    public int ReadBufferSize { get; init; } = 16 * 1024;

    /// <summary>
    /// Descriptors to keep free below the process's limit: the server holds at most as many connections as leave
    /// this many free, and sheds the rest (see <see cref="Polling.Net.AcceptLoopOptions.DescriptorHeadroom"/>).
    /// Actors run on the thread pool, and starting a thread, like the runtime's signal-handling thread at SIGTERM,
    /// opens files: with none free the process aborts. Null (the default): no cap; the Chat program sets
    /// <see cref="Polling.Net.AcceptLoopOptions.SignalHeadroom"/>.
    /// </summary>
    public int? DescriptorHeadroom { get; init; }

    internal static ActorServerOptions Default { get; } = new();
}
