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

    internal static ActorServerOptions Default { get; } = new();
}
