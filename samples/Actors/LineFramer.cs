namespace Polling.Actors;

/// <summary>
/// Cuts a byte stream into '\n'-terminated lines of at most <see cref="MaxLength"/> bytes, for line-protocol codecs.
/// A longer line is reported once as <see cref="LineResult.TooLong"/> and the rest of it, up to its '\n', is
/// skipped, so the connection survives it. A trailing '\r' is removed.
/// </summary>
/// <example>
/// <code>
/// var framer = new LineFramer(4096);
/// switch (framer.Next(input, out ReadOnlySpan&lt;byte&gt; line, out int consumed)) { ... }
/// </code>
/// </example>
/// <param name="maxLength">The longest line accepted, in bytes, without its '\n'.</param>
public sealed class LineFramer(int maxLength)
{
    private bool _skipping;

    /// <summary>The longest line accepted, in bytes.</summary>
    public int MaxLength { get; } = maxLength;

    /// <summary>Finds the next line in <paramref name="input"/>.</summary>
    /// <param name="input">Bytes received and not yet consumed.</param>
    /// <param name="line">The line, without '\n' (and '\r'), for <see cref="LineResult.Line"/>.</param>
    /// <param name="consumed">Bytes used; may be more than zero for <see cref="LineResult.NeedMore"/> (skipped bytes).</param>
    public LineResult Next(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> line, out int consumed)
    {
        line = default;
        int end = input.IndexOf((byte)'\n');
        if (_skipping)
        {
            if (end < 0)
            {
                consumed = input.Length;
                return LineResult.NeedMore;
            }

            _skipping = false;
            consumed = end + 1;
            return LineResult.NeedMore;
        }

        if (end < 0)
        {
            if (input.Length > MaxLength)
            {
                _skipping = true;
                consumed = input.Length;
                return LineResult.TooLong;
            }

            consumed = 0;
            return LineResult.NeedMore;
        }

        consumed = end + 1;
        ReadOnlySpan<byte> found = input[..end];
        if (found.Length > 0 && found[^1] == (byte)'\r')
        {
            found = found[..^1];
        }

        if (found.Length > MaxLength)
        {
            return LineResult.TooLong;
        }

        line = found;
        return LineResult.Line;
    }
}

/// <summary>What <see cref="LineFramer.Next"/> found.</summary>
public enum LineResult
{
    /// <summary>No complete line yet (bytes of an overlong line may have been skipped).</summary>
    NeedMore,

    /// <summary>A line.</summary>
    Line,

    /// <summary>A line longer than the limit: reported once, then skipped to its end.</summary>
    TooLong,
}
