namespace MiniRedis.Commands;

/// <summary>redis's error texts, word for word, for the replies commands share.</summary>
internal static class Replies
{
    public static ReadOnlySpan<byte> WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value"u8;

    public static ReadOnlySpan<byte> NotInteger => "ERR value is not an integer or out of range"u8;

    public static ReadOnlySpan<byte> Overflow => "ERR increment or decrement would overflow"u8;

    public static ReadOnlySpan<byte> SyntaxError => "ERR syntax error"u8;

    public static ReadOnlySpan<byte> NotPositive => "ERR value is out of range, must be positive"u8;

    public static ReadOnlySpan<byte> DbIndexOutOfRange => "ERR DB index is out of range"u8;
}
