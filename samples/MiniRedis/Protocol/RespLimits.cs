namespace MiniRedis.Protocol;

/// <summary>
/// How much one client may make the server hold while a command arrives. The defaults are redis's own:
/// <c>proto-max-bulk-len</c> (512 MB), <c>PROTO_INLINE_MAX_SIZE</c> (64 KB) and <c>client-query-buffer-limit</c>
/// (1 GB); lower them to bound a server's memory per connection more tightly.
/// </summary>
/// <example>
/// <code>
/// var limits = new RespLimits { MaxBulkLength = 1 &lt;&lt; 20, MaxQueryBufferLength = 4 &lt;&lt; 20 };
/// var parser = new RespParser(limits);
/// </code>
/// </example>
public sealed record RespLimits
{
    /// <summary>redis's limits.</summary>
    public static RespLimits Default { get; } = new();

    /// <summary>
    /// The longest bulk string a multibulk command may carry; a longer <c>$len</c> is answered with
    /// <c>-ERR Protocol error: invalid bulk length</c> and the connection is closed.
    /// </summary>
    public int MaxBulkLength { get; init; } = 512 * 1024 * 1024;

    /// <summary>
    /// The most arguments a multibulk command may declare (redis 7 accepts up to <see cref="int.MaxValue"/> and
    /// bounds memory by the query buffer instead); more is <c>-ERR Protocol error: invalid multibulk length</c>.
    /// </summary>
    public int MaxMultibulkLength { get; init; } = int.MaxValue;

    /// <summary>
    /// The longest inline command line, and the longest <c>*N</c> or <c>$N</c> header line, before its line end
    /// arrives: past it a client gets <c>-ERR Protocol error: too big inline request</c> (or <c>... mbulk count
    /// string</c>, <c>... bulk count string</c>) and is closed.
    /// </summary>
    public int MaxInlineLength { get; init; } = 64 * 1024;

    /// <summary>
    /// The most bytes of one unfinished command a connection may buffer; a client that needs more is closed
    /// without a reply, as redis does when <c>client-query-buffer-limit</c> is reached.
    /// </summary>
    public int MaxQueryBufferLength { get; init; } = 1024 * 1024 * 1024;
}
