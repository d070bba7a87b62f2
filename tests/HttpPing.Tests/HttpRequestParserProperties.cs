using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace HttpPing.Tests;

/// <summary>
/// Fuzz-style properties: the parser is fed random bytes (random soup and HTTP-shaped soup) in random fragmentations,
/// the way the server feeds it (unconsumed rest + next read). It must never throw, never leave more than its bound
/// unconsumed, never produce a request after an error, and give the same answers however the bytes are cut.
/// </summary>
public class HttpRequestParserProperties
{
    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("HTTPPING_PROPERTY_RUNS"), out int runs) ? runs : 300;

    /// <summary>Pieces that make HTTP-shaped input likely: valid requests, their parts, limits' edges and junk.</summary>
    private static readonly string[] Vocabulary =
    [
        "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n", "GET /other HTTP/1.0\r\n\r\n",
        "GET ", "POST ", "HEAD ", "/ping", "/x?y", " HTTP/1.1", " HTTP/1.0", " HTTP/2.0", "\r\n", "\r\n\r\n", "\r", "\n", " ", "\t",
        "Host: x\r\n", "Connection: close\r\n", "Connection: keep-alive\r\n", "Content-Length: ", "0", "1", "5", "17", "9999999",
        "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n", "3\r\nabc\r\n", "0\r\n\r\n", "a;x=y\r\n", "FFFFFFFF\r\n",
        ":", "X-Pad: ", "\u0000", "\u007f", "\u00e9", new string('a', 200), new string('b', 3000),
    ];

    private static Config Configuration => Config.QuickThrowOnFailure.WithMaxTest(Runs).WithQuietOnSuccess(true);

    private static Gen<byte[]> RandomBytes => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));

    private static Gen<byte[]> HttpShapedBytes =>
        Gen.ArrayOf(Gen.Frequency(
                (8, Gen.Elements(Vocabulary).Select(s => Encoding.Latin1.GetBytes(s))),
                (1, RandomBytes)))
            .Select(pieces => pieces.SelectMany(p => p).ToArray());

    /// <summary>Read sizes, used in turn: mostly small (1 byte is common), sometimes large.</summary>
    private static Gen<int[]> Cuts =>
        Gen.ArrayOf(Gen.Frequency((3, Gen.Constant(1)), (6, Gen.Choose(2, 40)), (1, Gen.Choose(41, 5000))))
            .Select(cuts => cuts.Length == 0 ? [7] : cuts);

    private static Gen<HttpRequestParser> Parsers =>
        Gen.Elements<Func<HttpRequestParser>>(
                () => new HttpRequestParser(),
                () => new HttpRequestParser(maxHeaderBytes: 64, maxBodyBytes: 10),
                () => new HttpRequestParser(maxHeaderBytes: 300, maxBodyBytes: 0))
            .Select(make => make());

    [Fact]
    public void Random_bytes_in_random_fragments_never_break_the_parser() =>
        Check.One(Configuration, Prop.ForAll(Arb.From(Scenario(RandomBytes)), Holds));

    [Fact]
    public void Http_shaped_bytes_in_random_fragments_never_break_the_parser() =>
        Check.One(Configuration, Prop.ForAll(Arb.From(Scenario(HttpShapedBytes)), Holds));

    [Fact]
    public void Valid_pipelined_requests_in_random_fragments_all_come_out_in_order() =>
        Check.One(Configuration, Prop.ForAll(Arb.From(
            from requests in Gen.NonEmptyListOf(ValidRequest)
            from cuts in Cuts
            select (requests.ToArray(), cuts)), scenario =>
        {
            (Valid[] requests, int[] cuts) = scenario;
            byte[] input = Encoding.Latin1.GetBytes(string.Concat(requests.Select(r => r.Text)));
            Feed feed = Fragmented(new HttpRequestParser(), input, cuts);
            return feed.Outcomes.SequenceEqual(requests.Select(r => r.Expected)) && feed.MaxCarry < HttpRequestParser.DefaultMaxHeaderBytes;
        }));

    private static Gen<(byte[] Input, int[] Cuts, HttpRequestParser Parser, HttpRequestParser Twin)> Scenario(Gen<byte[]> input) =>
        from bytes in input
        from cuts in Cuts
        from limits in Gen.Choose(0, 2)
        select (bytes, cuts, Make(limits), Make(limits));

    private static HttpRequestParser Make(int limits) => limits switch
    {
        0 => new HttpRequestParser(),
        1 => new HttpRequestParser(maxHeaderBytes: 64, maxBodyBytes: 10),
        _ => new HttpRequestParser(maxHeaderBytes: 300, maxBodyBytes: 0),
    };

    private static Property Holds((byte[] Input, int[] Cuts, HttpRequestParser Parser, HttpRequestParser Twin) s)
    {
        Feed fragmented;
        Feed whole;
        try
        {
            fragmented = Fragmented(s.Parser, s.Input, s.Cuts);
            whole = new Feed(s.Twin);
            whole.Push(s.Input);
        }
        catch (Exception e)
        {
            return Prop.Label(false, $"threw {e}");
        }

        bool bounded = fragmented.MaxCarry < s.Parser.MaxUnconsumedBytes && whole.MaxCarry < s.Parser.MaxUnconsumedBytes;
        bool same = SameAnswers(fragmented.Outcomes, whole.Outcomes);
        return Prop.Label(bounded, $"carry {fragmented.MaxCarry}/{whole.MaxCarry} over {s.Parser.MaxUnconsumedBytes}")
            .And(Prop.Label(same, $"fragmented [{string.Join(", ", fragmented.Outcomes)}] whole [{string.Join(", ", whole.Outcomes)}]"));
    }

    /// <summary>
    /// The same requests and the same error, except that a line refused early for a control character while still
    /// partial (400) may be refused for its length (414/431) when it arrives whole.
    /// </summary>
    private static bool SameAnswers(List<string> fragmented, List<string> whole)
    {
        if (fragmented.Count != whole.Count)
        {
            return false;
        }

        for (int i = 0; i < fragmented.Count; i++)
        {
            if (fragmented[i] != whole[i] && !(IsLineError(fragmented[i]) && IsLineError(whole[i])))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLineError(string outcome) => outcome is "error 400" or "error 414" or "error 431";

    private static Feed Fragmented(HttpRequestParser parser, byte[] input, int[] cuts)
    {
        var feed = new Feed(parser);
        int offset = 0;
        for (int i = 0; offset < input.Length && !feed.Failed; i++)
        {
            int size = Math.Min(cuts[i % cuts.Length], input.Length - offset);
            feed.Push(input.AsSpan(offset, size));
            offset += size;
        }

        return feed;
    }

    private sealed record Valid(string Text, string Expected);

    private static Gen<Valid> ValidRequest =>
        from method in Gen.Elements("GET", "HEAD", "POST", "DELETE")
        from path in Gen.Elements("/ping", "/ping?q=1", "/", "/pingpong", "http://h/ping")
        from http10 in Gen.Elements(false, true)
        from connection in Gen.Elements("", "close", "keep-alive", "Keep-Alive, foo")
        from extra in Gen.Elements("", "User-Agent: test\r\n", "Accept: */*\r\nX-Y:  z \r\n")
        from body in Gen.Elements("", "abc", new string('x', 700))
        from chunked in Gen.Elements(false, true)
        select Build(method, path, http10, connection, extra, body, chunked && !http10);

    private static Valid Build(string method, string path, bool http10, string connection, string extra, string body, bool chunked)
    {
        var text = new StringBuilder($"{method} {path} HTTP/1.{(http10 ? 0 : 1)}\r\n");
        if (!http10)
        {
            text.Append("Host: example\r\n");
        }

        if (connection.Length > 0)
        {
            text.Append($"Connection: {connection}\r\n");
        }

        text.Append(extra);
        if (chunked)
        {
            text.Append("Transfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < body.Length; i += 256)
            {
                string chunk = body.Substring(i, Math.Min(256, body.Length - i));
                text.Append($"{chunk.Length:x}\r\n{chunk}\r\n");
            }

            text.Append("0\r\n\r\n");
        }
        else
        {
            text.Append(body.Length > 0 ? $"Content-Length: {body.Length}\r\n\r\n{body}" : "\r\n");
        }

        bool close = connection.Contains("close");
        bool keepAlive = !close && (!http10 || connection.Contains("eep-"));
        var m = method switch { "GET" => HttpMethod.Get, "HEAD" => HttpMethod.Head, _ => HttpMethod.Other };
        bool ping = path is "/ping" or "/ping?q=1" or "http://h/ping";
        return new Valid(text.ToString(), Feed.Describe(new HttpRequest(m, ping, keepAlive, http10)));
    }
}
