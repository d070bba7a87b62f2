namespace MiniRedis.Storage;

/// <summary>
/// redis's glob matching (<c>stringmatchlen</c>, case-sensitive) for KEYS: <c>*</c> any run, <c>?</c> one byte,
/// <c>[abc]</c>, <c>[^abc]</c> and <c>[a-z]</c> classes, and <c>\x</c> to match <c>x</c> literally.
/// </summary>
/// <example>
/// <code>
/// Glob.IsMatch("user:*"u8, "user:42"u8);   // true
/// Glob.IsMatch("h[ae]llo"u8, "hillo"u8);   // false
/// </code>
/// </example>
public static class Glob
{
    /// <summary>True if <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text)
    {
        // Iterative with one backtrack point for the last '*': linear for most patterns, and never recursive,
        // so a hostile pattern cannot exhaust the stack (redis bounds its recursion the same way since 7.0).
        int p = 0;
        int t = 0;
        int starP = -1;
        int starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == (byte)'*')
            {
                while (p < pattern.Length && pattern[p] == (byte)'*')
                {
                    p++;
                }

                if (p == pattern.Length)
                {
                    return true;
                }

                starP = p;
                starT = t;
                continue;
            }

            if (p < pattern.Length && MatchOne(pattern, ref p, text[t]))
            {
                t++;
                continue;
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP;
            t = ++starT;
        }

        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Matches one pattern element at <paramref name="p"/> against <paramref name="c"/>; advances <paramref name="p"/> past it on success.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, ref int p, byte c)
    {
        switch (pattern[p])
        {
            case (byte)'?':
                p++;
                return true;
            case (byte)'[':
                return MatchClass(pattern, ref p, c);
            case (byte)'\\' when p + 1 < pattern.Length:
                if (pattern[p + 1] != c)
                {
                    return false;
                }

                p += 2;
                return true;
            default:
                if (pattern[p] != c)
                {
                    return false;
                }

                p++;
                return true;
        }
    }

    private static bool MatchClass(ReadOnlySpan<byte> pattern, ref int p, byte c)
    {
        int i = p + 1;
        bool not = i < pattern.Length && pattern[i] == (byte)'^';
        if (not)
        {
            i++;
        }

        bool match = false;
        while (true)
        {
            if (i < pattern.Length - 1 && pattern[i] == (byte)'\\')
            {
                i++;
                match |= pattern[i] == c;
            }
            else if (i < pattern.Length && pattern[i] == (byte)']')
            {
                break;
            }
            else if (i >= pattern.Length)
            {
                i = pattern.Length - 1;   // redis: an unterminated class ends at the pattern's end
                break;
            }
            else if (i + 2 < pattern.Length && pattern[i + 1] == (byte)'-')
            {
                byte start = pattern[i];
                byte end = pattern[i + 2];
                if (start > end)
                {
                    (start, end) = (end, start);
                }

                i += 2;
                match |= c >= start && c <= end;
            }
            else
            {
                match |= pattern[i] == c;
            }

            i++;
        }

        if (not)
        {
            match = !match;
        }

        if (!match)
        {
            return false;
        }

        p = i + 1;
        return true;
    }
}
