using System.Text;

namespace HttpPing.Tests;

/// <summary>The request parser alone: no sockets, every input as one buffer (fragmentation is the properties' job).</summary>
public class HttpRequestParserTests
{
    private const string Ping = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";

    [Theory]
    [InlineData(Ping, "Get ping keep")]
    [InlineData("HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n", "Head ping keep")]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "Other ping keep")]
    [InlineData("GET /ping?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", "Get ping keep")]
    [InlineData("GET http://example.com/ping HTTP/1.1\r\nHost: x\r\n\r\n", "Get ping keep")]
    [InlineData("GET /pong HTTP/1.1\r\nHost: x\r\n\r\n", "Get other keep")]
    [InlineData("GET /ping/ HTTP/1.1\r\nHost: x\r\n\r\n", "Get other keep")]
    [InlineData("GET * HTTP/1.1\r\nHost: x\r\n\r\n", "Get other keep")]
    [InlineData("get /ping HTTP/1.1\r\nHost: x\r\n\r\n", "Other ping keep")]
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Get ping close")]
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n", "Get ping close")]
    [InlineData("GET /ping HTTP/1.0\r\n\r\n", "Get ping close 1.0")]
    [InlineData("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "Get ping keep 1.0")]
    [InlineData("GET /ping HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "Get ping close 1.0")]
    [InlineData("GET /ping HTTP/1.9\r\nHost: x\r\n\r\n", "Get ping keep")]
    [InlineData("\r\n\r\n" + Ping, "Get ping keep")]
    [InlineData("GET /ping HTTP/1.1\r\nHost:x\r\nX-Empty:\r\nX-Tab:\ta\tb\t\r\nX-Obs: caf\u00e9\r\n\r\n", "Get ping keep")]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "Other ping keep")]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n", "Other ping keep")]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", "Other ping keep")]
    public void ParsesOneRequest(string text, string expected) => Assert.Equal(expected, Feed.One(text));

    [Theory]
    [InlineData("GET /ping HTTP/1.1\nHost: x\r\n\r\n", 400)]                      // bare LF
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\n\r\n", 400)]
    [InlineData("GET  /ping HTTP/1.1\r\nHost: x\r\n\r\n", 400)]                   // two spaces
    [InlineData("GET /ping  HTTP/1.1\r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1 \r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /ping\r\nHost: x\r\n\r\n", 400)]                             // HTTP/0.9 style
    [InlineData("GET /ping HTTP/11\r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /ping http/1.1\r\nHost: x\r\n\r\n", 400)]
    [InlineData("G(T /ping HTTP/1.1\r\nHost: x\r\n\r\n", 400)]                   // not a token
    [InlineData("GET /pi\u00e9ng HTTP/1.1\r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/2.0\r\nHost: x\r\n\r\n", 505)]
    [InlineData("GET /ping HTTP/1.1\r\n\r\n", 400)]                               // no Host
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\nHost : x\r\n\r\n", 400)]                   // space before colon
    [InlineData("GET /ping HTTP/1.1\r\n Host: x\r\n\r\n", 400)]                   // leading whitespace
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400)]     // obs-fold
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nX: a\u0001b\r\n\r\n", 400)]
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\n", 400)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", 413)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413)]
    [InlineData("POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 413)]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001", 400)]                     // a TLS ClientHello, before any line end
    [InlineData("GET /ping HTTP/1.1\r\nHost: x\r\nX: \u0000", 400)]               // a NUL in a partial field line
    public void RefusesMalformedRequests(string text, int status) => Assert.Equal($"error {status}", Feed.One(text));

    [Fact]
    public void An_error_is_final()
    {
        var parser = new HttpRequestParser();
        Assert.Equal("error 400", Feed.One("BAD\r\n", parser));
        Assert.Equal(ParseStatus.Error, parser.Parse(Encoding.ASCII.GetBytes(Ping), out int consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(400, parser.ErrorStatus);
        parser.Reset();
        Assert.Equal("Get ping keep", Feed.One(Ping, parser));
    }

    [Fact]
    public void Sixteen_pipelined_requests_come_out_in_order()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 16; i++)
        {
            text.Append(i % 3 == 0 ? "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" : i % 5 == 0 ? "HEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n" : Ping);
        }

        List<string> outcomes = Feed.All(text.ToString());
        Assert.Equal(16, outcomes.Count);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(i % 3 == 0 ? "Get other keep" : i % 5 == 0 ? "Head ping keep" : "Get ping keep", outcomes[i]);
        }
    }

    [Fact]
    public void A_head_of_exactly_the_limit_is_accepted_and_one_byte_more_is_431()
    {
        const string Start = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Pad: ";
        string exact = Start + new string('a', HttpRequestParser.DefaultMaxHeaderBytes - Start.Length - 4) + "\r\n\r\n";
        Assert.Equal(HttpRequestParser.DefaultMaxHeaderBytes, exact.Length);
        Assert.Equal("Get ping keep", Feed.One(exact));
        string over = Start + new string('a', HttpRequestParser.DefaultMaxHeaderBytes - Start.Length - 3) + "\r\n\r\n";
        Assert.Equal("error 431", Feed.One(over));
    }

    [Fact]
    public void Many_small_headers_over_the_limit_are_431()
    {
        var text = new StringBuilder("GET /ping HTTP/1.1\r\nHost: x\r\n");
        while (text.Length < 9000)
        {
            text.Append("X-A: b\r\n");
        }

        Assert.Equal("error 431", Feed.One(text.Append("\r\n").ToString()));
    }

    [Fact]
    public void A_long_request_line_is_414_and_endless_empty_lines_are_431_or_414()
    {
        Assert.Equal("error 414", Feed.One("GET /" + new string('a', 9000)));
        Assert.Equal("error 414", Feed.One(string.Concat(Enumerable.Repeat("\r\n", 5000))));
    }

    [Fact]
    public void An_endless_header_line_is_refused_at_the_limit_without_waiting_for_its_end()
    {
        var feed = new Feed(new HttpRequestParser());
        feed.Push("GET /ping HTTP/1.1\r\nHost: x\r\nX: "u8);
        for (int i = 0; i < 100 && !feed.Failed; i++)
        {
            feed.Push(Encoding.ASCII.GetBytes(new string('a', 1000)));
        }

        Assert.Equal(["error 431"], feed.Outcomes);
        Assert.True(feed.MaxCarry < HttpRequestParser.DefaultMaxHeaderBytes);
    }

    [Fact]
    public void Bodies_are_skipped_across_fragments_without_being_kept()
    {
        var feed = new Feed(new HttpRequestParser());
        feed.Push("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"u8);
        for (int i = 0; i < 100; i++)
        {
            feed.Push(new byte[1000]);
        }

        feed.Push(Encoding.ASCII.GetBytes(Ping));
        Assert.Equal(["Other other keep", "Get ping keep"], feed.Outcomes);
        Assert.True(feed.MaxCarry < 100, $"carry {feed.MaxCarry}");
    }

    [Fact]
    public void Limits_are_configurable()
    {
        var parser = new HttpRequestParser(maxHeaderBytes: 64, maxBodyBytes: 2);
        Assert.Equal("error 413", Feed.One("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", parser));
        parser = new HttpRequestParser(maxHeaderBytes: 64, maxBodyBytes: 2);
        Assert.Equal("Other ping keep", Feed.One("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab", parser));
        parser = new HttpRequestParser(maxHeaderBytes: 64, maxBodyBytes: 2);
        Assert.Equal("error 431", Feed.One("GET /ping HTTP/1.1\r\nHost: x\r\nX-Long-Enough: 0123456789012345678\r\n\r\n", parser));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpRequestParser(maxHeaderBytes: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpRequestParser(maxBodyBytes: -1));
    }

    [Fact]
    public void Expect_continue_is_requested_once_per_request_with_a_body_to_come()
    {
        var parser = new HttpRequestParser();
        Assert.Equal(ParseStatus.NeedMore, parser.Parse("POST /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n"u8, out _));
        Assert.True(parser.TakeContinueRequest());
        Assert.False(parser.TakeContinueRequest());
        Assert.Equal(ParseStatus.Request, parser.Parse("ab"u8, out _));
        Assert.False(parser.TakeContinueRequest());
        Assert.Equal(ParseStatus.Request, parser.Parse("GET /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n"u8, out _));
        Assert.False(parser.TakeContinueRequest()); // no body: nothing to wait for
        Assert.Equal(ParseStatus.Error, parser.Parse("POST /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9999999\r\n\r\n"u8, out _));
        Assert.False(parser.TakeContinueRequest()); // refused: the client must not send the body
    }

    [Fact]
    public void In_request_tells_a_partial_request_from_an_idle_connection()
    {
        var parser = new HttpRequestParser();
        Assert.False(parser.InRequest);
        Assert.Equal(ParseStatus.NeedMore, parser.Parse("GET /ping HTTP/1.1\r\nHo"u8, out int consumed));
        Assert.Equal(20, consumed);
        Assert.True(parser.InRequest);
        Assert.Equal(ParseStatus.Request, parser.Parse("Host: x\r\n\r\n"u8, out _));
        Assert.False(parser.InRequest);
    }

    [Fact]
    public void Parsing_a_pipelined_batch_allocates_nothing()
    {
        byte[] batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET /ping HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n", 16)));
        var parser = new HttpRequestParser();
        int requests = ParseBatch(parser, batch); // warm up (JIT, static tables)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            requests += ParseBatch(parser, batch);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(16 * 10_001, requests);
        Assert.Equal(0, allocated);
    }

    private static int ParseBatch(HttpRequestParser parser, ReadOnlySpan<byte> batch)
    {
        int requests = 0;
        while (parser.Parse(batch, out int consumed) == ParseStatus.Request)
        {
            batch = batch[consumed..];
            requests++;
        }

        return requests;
    }
}
