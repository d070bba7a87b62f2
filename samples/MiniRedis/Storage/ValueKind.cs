namespace MiniRedis.Storage;

/// <summary>The type of a key's value (redis's <c>TYPE</c>).</summary>
/// <example>
/// <code>
/// if (entry.Kind != ValueKind.String) writer.Error(Replies.WrongType);
/// </code>
/// </example>
public enum ValueKind
{
    /// <summary>A binary-safe string (also what INCR works on).</summary>
    String,

    /// <summary>A list of strings (LPUSH, RPUSH, ...).</summary>
    List,
}
