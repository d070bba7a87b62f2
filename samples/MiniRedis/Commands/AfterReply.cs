namespace MiniRedis.Commands;

/// <summary>What the connection does once a command's reply is written.</summary>
/// <example>
/// <code>
/// if (executor.Execute(command, client, writer) == AfterReply.Close) CloseAfterFlush();
/// </code>
/// </example>
public enum AfterReply
{
    /// <summary>Keep reading commands.</summary>
    Continue,

    /// <summary>Send what is written, then close (QUIT).</summary>
    Close,
}
