namespace MiniRedis.Server;

/// <summary>Where <see cref="ClientSession.Process"/> stopped.</summary>
/// <example>
/// <code>
/// SessionStatus status = session.Process(executor, writer, outputBudget: 64 * 1024);
/// if (status == SessionStatus.Close) { /* flush, then close */ }
/// </code>
/// </example>
public enum SessionStatus
{
    /// <summary>Every whole command is done; read more.</summary>
    NeedInput,

    /// <summary>The output budget is used up while whole commands still wait: write, then call again.</summary>
    OutputFull,

    /// <summary>QUIT or a protocol error: its reply is written; send it and close the connection.</summary>
    Close,

    /// <summary>The unfinished command will not fit the query buffer limit: close at once, without a reply (as redis).</summary>
    Abort,
}
