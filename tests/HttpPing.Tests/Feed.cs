using System.Text;

namespace HttpPing.Tests;

/// <summary>
/// Drives a parser the way the server does: the unconsumed rest of each call is kept (a carry-over) and the next
/// fragment appended to it. Records what came out and the largest carry-over seen.
/// </summary>
internal sealed class Feed(HttpRequestParser parser)
{
    private byte[] _carry = [];

    public List<string> Outcomes { get; } = [];

    public int MaxCarry { get; private set; }

    public bool Failed { get; private set; }

    public static List<string> All(string text, HttpRequestParser? parser = null)
    {
        var feed = new Feed(parser ?? new HttpRequestParser());
        feed.Push(Encoding.Latin1.GetBytes(text));
        return feed.Outcomes;
    }

    public static string One(string text, HttpRequestParser? parser = null)
    {
        List<string> outcomes = All(text, parser);
        return outcomes.Count == 0 ? "need-more" : string.Join(" | ", outcomes);
    }

    public static string Describe(HttpRequest r) =>
        $"{r.Method} {(r.IsPing ? "ping" : "other")} {(r.KeepAlive ? "keep" : "close")}{(r.IsHttp10 ? " 1.0" : "")}";

    public void Push(ReadOnlySpan<byte> fragment)
    {
        byte[] input = [.. _carry, .. fragment];
        int offset = 0;
        while (true)
        {
            ParseStatus status = parser.Parse(input.AsSpan(offset), out int consumed);
            if (consumed < 0 || offset + consumed > input.Length)
            {
                throw new InvalidOperationException($"consumed {consumed} of {input.Length - offset}");
            }

            offset += consumed;
            if (status == ParseStatus.Request)
            {
                if (Failed)
                {
                    throw new InvalidOperationException("a request after an error");
                }

                Outcomes.Add(Describe(parser.Request));
                continue;
            }

            if (status == ParseStatus.Error)
            {
                if (!Failed)
                {
                    Outcomes.Add($"error {parser.ErrorStatus}");
                }

                Failed = true;
                _carry = [];
                return;
            }

            _carry = input[offset..];
            MaxCarry = Math.Max(MaxCarry, _carry.Length);
            return;
        }
    }
}
