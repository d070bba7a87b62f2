namespace MiniRedis.Protocol;

/// <summary>What <see cref="RespParser.TryParse"/> found.</summary>
/// <example>
/// <code>
/// switch (parser.TryParse(buffer, start, end, out int used))
/// {
///     case ParseStatus.Command: Execute(parser.Command); start += used; break;
///     case ParseStatus.Incomplete: /* read more */ break;
///     case ParseStatus.Error: Reply(parser.ErrorMessage); Close(); break;
/// }
/// </code>
/// </example>
public enum ParseStatus
{
    /// <summary>No whole command yet: read more bytes and call again with the same start.</summary>
    Incomplete,

    /// <summary>A command is in <see cref="RespParser.Command"/>; the bytes it used are consumed.</summary>
    Command,

    /// <summary>The bytes break the protocol or a limit; <see cref="RespParser.ErrorMessage"/> says how. Close after replying.</summary>
    Error,
}
