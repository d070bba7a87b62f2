using System.Buffers;
using System.Text;
using Polling.Services;
using Polling.Services.Http;
using Xunit;

namespace Services.Tests;

public class HttpCodecTests
{
    private const string Two = "GET /ping HTTP/1.1\r\nHost: a\r\n\r\nPOST /x?y=1&z HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";

    [Fact]
    public void Parses_pipelined_requests_one_at_a_time()
    {
        var codec = new HttpServerCodec();
        byte[] input = Encoding.ASCII.GetBytes(Two);

        Assert.True(codec.TryDecode(input, out HttpRequest? first, out int used));
        Assert.Equal("GET", first!.Method);
        Assert.Equal("/ping", first.Path);
        Assert.True(first.KeepAlive);
        Assert.Equal("a", first.GetHeader("host"));

        Assert.True(codec.TryDecode(input.AsSpan(used), out HttpRequest? second, out int used2));
        Assert.Equal("POST", second!.Method);
        Assert.Equal("/x", second.Path);
        Assert.Equal("1", second.GetQuery("y"));
        Assert.Equal(string.Empty, second.GetQuery("z"));
        Assert.Null(second.GetQuery("w"));
        Assert.Equal("abc", Encoding.ASCII.GetString(second.Body));
        Assert.False(second.KeepAlive);
        Assert.Equal(input.Length, used + used2);
    }

    [Fact]
    public void A_request_split_anywhere_parses_only_once_complete()
    {
        byte[] input = Encoding.ASCII.GetBytes(Two);
        var codec = new HttpServerCodec();
        Assert.True(codec.TryDecode(input, out _, out int firstLength));
        for (int cut = 0; cut < firstLength; cut++)
        {
            Assert.False(codec.TryDecode(input.AsSpan(0, cut), out _, out _));
        }

        for (int cut = firstLength; cut < input.Length; cut++)
        {
            Assert.False(codec.TryDecode(input.AsSpan(firstLength, cut - firstLength), out _, out _));
        }
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET /x HTTP/2\r\n\r\n", 400)]
    [InlineData("GET /x HTTP/1.1\r\nno colon\r\n\r\n", 400)]
    [InlineData("GET /x HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400)]
    [InlineData("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501)]
    [InlineData("POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413)]
    public void Bad_input_throws_a_ProtocolException_with_the_status_to_answer(string input, int status)
    {
        var codec = new HttpServerCodec();
        var error = Assert.Throws<ProtocolException>(() => codec.TryDecode(Encoding.ASCII.GetBytes(input), out _, out _));
        Assert.Equal(status, error.Code);
    }

    [Fact]
    public void A_head_that_never_ends_is_rejected_at_16_KiB()
    {
        var codec = new HttpServerCodec();
        byte[] input = Encoding.ASCII.GetBytes("GET /" + new string('a', 17 * 1024));
        Assert.Equal(431, Assert.Throws<ProtocolException>(() => codec.TryDecode(input, out _, out _)).Code);
    }

    [Fact]
    public void Encodes_status_headers_length_and_body_and_says_close_when_asked()
    {
        var codec = new HttpServerCodec();
        var output = new ArrayBufferWriter<byte>();
        codec.TryDecode(Encoding.ASCII.GetBytes(Two)[..("GET /ping HTTP/1.1\r\nHost: a\r\n\r\n".Length)], out HttpRequest? request, out _);

        Assert.True(codec.Encode(request!, HttpResponse.Pong, output));
        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\nPONG", Encoding.ASCII.GetString(output.WrittenSpan));

        output.Clear();
        Assert.True(codec.EncodeFailure(request!, new TimeoutException(), output));
        Assert.StartsWith("HTTP/1.1 504 Gateway Timeout\r\n", Encoding.ASCII.GetString(output.WrittenSpan));

        output.Clear();
        codec.EncodeProtocolError(new ProtocolException(400, "bad"), output);
        Assert.Contains("Connection: close\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }
}
