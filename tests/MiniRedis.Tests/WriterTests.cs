using MiniRedis.Protocol;

namespace MiniRedis.Tests;

/// <summary>The encoder alone: typed replies in, RESP2 bytes out.</summary>
public sealed class WriterTests
{
    private readonly RespWriter _writer = new();

    [Fact]
    public void Simple_strings_and_errors()
    {
        _writer.Ok();
        _writer.SimpleString("PONG"u8);
        _writer.Error("ERR syntax error"u8);
        _writer.Error("ERR from a string");
        Assert.Equal("+OK\r\n+PONG\r\n-ERR syntax error\r\n-ERR from a string\r\n", Resp.Text(_writer.Written));
    }

    [Fact]
    public void Errors_cannot_break_the_stream()
    {
        _writer.Error("ERR a\r\nb\nc\r"u8);
        _writer.BeginError();
        _writer.ErrorText("ERR x"u8);
        _writer.ErrorText("\r\n+OK"u8);
        _writer.EndError();
        _writer.Error("ERR \r\n");
        Assert.Equal("-ERR a  b c \r\n-ERR x  +OK\r\n-ERR   \r\n", Resp.Text(_writer.Written));
    }

    [Theory]
    [InlineData(0L, ":0\r\n")]
    [InlineData(1L, ":1\r\n")]
    [InlineData(-1L, ":-1\r\n")]
    [InlineData(42L, ":42\r\n")]
    [InlineData(long.MaxValue, ":9223372036854775807\r\n")]
    [InlineData(long.MinValue, ":-9223372036854775808\r\n")]
    public void Integers(long value, string expected)
    {
        _writer.Integer(value);
        Assert.Equal(expected, Resp.Text(_writer.Written));
    }

    [Fact]
    public void Bulks_nulls_and_arrays()
    {
        _writer.ArrayHeader(4);
        _writer.Bulk("v1"u8);
        _writer.Bulk(""u8);
        _writer.NullBulk();
        _writer.BulkInteger(-12);
        _writer.ArrayHeader(0);
        _writer.NullArray();
        Assert.Equal("*4\r\n$2\r\nv1\r\n$0\r\n\r\n$-1\r\n$3\r\n-12\r\n*0\r\n*-1\r\n", Resp.Text(_writer.Written));
    }

    [Fact]
    public void Grows_for_a_large_reply_and_gives_the_memory_back_on_clear()
    {
        var big = new byte[3 * 1024 * 1024];
        big.AsSpan().Fill((byte)'x');
        _writer.Bulk(big);
        Assert.Equal(big.Length + 12, _writer.Length);
        Assert.StartsWith("$3145728\r\nxxx", Resp.Text(_writer.Written[..16]));
        _writer.Clear();
        Assert.Equal(0, _writer.Length);
        Assert.True(_writer.Capacity <= 1024 * 1024);
    }

    [Fact]
    public void Redis_numbers_are_strict()
    {
        Assert.True(RedisNumber.TryParse("0"u8, out long n) && n == 0);
        Assert.True(RedisNumber.TryParse("-42"u8, out n) && n == -42);
        Assert.True(RedisNumber.TryParse("9223372036854775807"u8, out n) && n == long.MaxValue);
        Assert.True(RedisNumber.TryParse("-9223372036854775808"u8, out n) && n == long.MinValue);
        foreach (string bad in new[] { "", "-", "-0", "01", "+1", " 1", "1 ", "1.0", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "1e3" })
        {
            Assert.False(RedisNumber.TryParse(Resp.Bytes(bad), out _), bad);
        }
    }
}
