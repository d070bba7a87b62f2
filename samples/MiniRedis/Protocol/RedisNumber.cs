namespace MiniRedis.Protocol;

/// <summary>
/// redis's strict integer syntax (<c>string2ll</c>): optional <c>-</c>, no <c>+</c>, no leading zeros, no
/// spaces, at most 20 characters, within <see cref="long"/>. Used for protocol headers and for every
/// integer argument and value, so <c>" 1"</c> and <c>"01"</c> are not integers, as in redis.
/// </summary>
/// <example>
/// <code>
/// RedisNumber.TryParse("-42"u8, out long n);   // true, n == -42
/// RedisNumber.TryParse("042"u8, out _);        // false
/// </code>
/// </example>
public static class RedisNumber
{
    /// <summary>The longest integer text (<c>-9223372036854775808</c>).</summary>
    public const int MaxLength = 20;

    /// <summary>Parses <paramref name="text"/> as redis does; false (and 0) if it is not exactly an integer.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > MaxLength)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        if (i == text.Length || text[i] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9 || magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + digit;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }
}
