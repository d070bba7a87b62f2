using MiniRedis.Protocol;

namespace MiniRedis.Tests;

/// <summary>The parser alone: bytes in, typed commands or redis's protocol errors out.</summary>
public sealed class ParserTests
{
    private static readonly RespLimits Small = new() { MaxBulkLength = 64, MaxInlineLength = 32, MaxMultibulkLength = 8, MaxQueryBufferLength = 256 };

    [Fact]
    public void Multibulk_command()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n");
        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out int consumed));
        Assert.Equal(input.Length, consumed);
        RespCommand command = parser.Command;
        Assert.Equal(CommandKind.Set, command.Kind);
        Assert.Equal(3, command.Count);
        Assert.Equal("k", Resp.Text(command[1]));
        Assert.Equal("hello", Resp.Text(command[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => parser.Command[3].Length);
    }

    [Theory]
    [InlineData("get", CommandKind.Get)]
    [InlineData("GET", CommandKind.Get)]
    [InlineData("gEt", CommandKind.Get)]
    [InlineData("lpush", CommandKind.LPush)]
    [InlineData("INCRBY", CommandKind.IncrBy)]
    [InlineData("getx", CommandKind.Unknown)]
    [InlineData("", CommandKind.Unknown)]
    [InlineData("a-command-name-longer-than-any", CommandKind.Unknown)]
    public void NamesResolveInAnyCase(string name, CommandKind kind)
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes(Resp.Command(name, "x"));
        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out _));
        Assert.Equal(kind, parser.Command.Kind);
    }

    [Fact]
    public void Binary_safe_arguments()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes("*2\r\n$4\r\nECHO\r\n$6\r\n\r\n\0*$\n\r\n");
        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out _));
        Assert.Equal("\r\n\0*$\n", Resp.Text(parser.Command[1]));
    }

    [Fact]
    public void Pipelined_commands_come_one_at_a_time()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes(Resp.Command("PING") + "GET a\r\n" + Resp.Command("INCR", "n"));
        int start = 0;
        var kinds = new List<CommandKind>();
        while (parser.TryParse(input, start, input.Length, out int consumed) == ParseStatus.Command)
        {
            start += consumed;
            kinds.Add(parser.Command.Kind);
        }

        Assert.Equal([CommandKind.Ping, CommandKind.Get, CommandKind.Incr], kinds);
        Assert.Equal(input.Length, start);
    }

    [Fact]
    public void Every_prefix_is_incomplete_and_the_whole_is_one_command()
    {
        byte[] input = Resp.Bytes(Resp.Command("SET", "key", "a value") );
        for (int split = 0; split < input.Length; split++)
        {
            var parser = new RespParser(RespLimits.Default);
            Assert.Equal(ParseStatus.Incomplete, parser.TryParse(input, 0, split, out int consumed));
            Assert.Equal(0, consumed);
            Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out consumed));
            Assert.Equal(input.Length, consumed);
            Assert.Equal("a value", Resp.Text(parser.Command[2]));
        }
    }

    [Fact]
    public void Byte_by_byte_keeps_its_place()
    {
        byte[] input = Resp.Bytes(Resp.Command("MSET", "a", "1", "b", "2"));
        var parser = new RespParser(RespLimits.Default);
        for (int end = 1; end < input.Length; end++)
        {
            Assert.Equal(ParseStatus.Incomplete, parser.TryParse(input, 0, end, out _));
        }

        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out _));
        Assert.Equal(5, parser.Command.Count);
        Assert.Equal("2", Resp.Text(parser.Command[4]));
    }

    [Fact]
    public void Needed_length_announces_a_large_bulk()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes("*2\r\n$3\r\nSET\r\n$100000\r\nabc");
        Assert.Equal(ParseStatus.Incomplete, parser.TryParse(input, 0, input.Length, out _));
        Assert.Equal(4 + 9 + 9 + 100000 + 2, parser.NeededLength);
    }

    [Theory]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("PING\n", new[] { "PING" })]
    [InlineData("  set  k   v \t\r\n", new[] { "set", "k", "v" })]
    [InlineData("set k \"a b\"\r\n", new[] { "set", "k", "a b" })]
    [InlineData("echo \"\\x41\\n\\t\\\\\\\"q\"\r\n", new[] { "echo", "A\n\t\\\"q" })]
    [InlineData("echo 'it\\'s'\r\n", new[] { "echo", "it's" })]
    [InlineData("echo 'a\\nb'\r\n", new[] { "echo", "a\\nb" })]
    [InlineData("echo a\"b c\"\r\n", new[] { "echo", "ab c" })]
    [InlineData("echo \"\"\r\n", new[] { "echo", "" })]
    [InlineData("echo a\0b c\r\n", new[] { "echo", "a" })]
    public void InlineCommandsSplitAsRedisDoes(string line, string[] expected)
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes(line);
        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out int consumed));
        Assert.Equal(input.Length, consumed);
        var args = new string[parser.Command.Count];
        for (int i = 0; i < args.Length; i++)
        {
            args[i] = Resp.Text(parser.Command[i]);
        }

        Assert.Equal(expected, args);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("   \r\n")]
    [InlineData("\n")]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    public void Empty_commands_are_skipped(string empty)
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes(empty + empty + "PING\r\n");
        Assert.Equal(ParseStatus.Command, parser.TryParse(input, 0, input.Length, out int consumed));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(CommandKind.Ping, parser.Command.Kind);

        input = Resp.Bytes(empty);
        Assert.Equal(ParseStatus.Incomplete, parser.TryParse(input, 0, input.Length, out consumed));
        Assert.Equal(input.Length, consumed);   // consumed, so the caller moves past it
    }

    [Theory]
    [InlineData("*x\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1x\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*01\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*9\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1\r\nx3\r\n", "Protocol error: expected '$', got 'x'")]
    [InlineData("*1\r\n$-3\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$65\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$ 3\r\n", "Protocol error: invalid bulk length")]
    [InlineData("GET \"abc\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("GET 'abc\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("GET \"a\"b\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("0123456789012345678901234567890123", "Protocol error: too big inline request")]
    [InlineData("*10000000000000000000000000000000000", "Protocol error: too big mbulk count string")]
    [InlineData("*1\r\n$1000000000000000000000000000000000", "Protocol error: too big bulk count string")]
    public void ProtocolErrorsAreWordedAsRedisWordsThem(string input, string message)
    {
        var parser = new RespParser(Small);
        byte[] bytes = Resp.Bytes(input);
        Assert.Equal(ParseStatus.Error, parser.TryParse(bytes, 0, bytes.Length, out _));
        Assert.Equal(message, parser.ErrorMessage);
    }

    [Fact]
    public void Bulk_length_is_checked_against_the_limit_before_any_data_arrives()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes("*2\r\n$3\r\nSET\r\n$536870913\r\n");
        Assert.Equal(ParseStatus.Error, parser.TryParse(input, 0, input.Length, out _));
        Assert.Equal("Protocol error: invalid bulk length", parser.ErrorMessage);
    }

    [Fact]
    public void Argument_arrays_grow_with_the_command_not_with_the_declared_count()
    {
        var parser = new RespParser(RespLimits.Default);
        byte[] input = Resp.Bytes("*2000000000\r\n$4\r\nPING\r\n");
        Assert.Equal(ParseStatus.Incomplete, parser.TryParse(input, 0, input.Length, out _));
        Assert.True(parser.Command.Capacity <= 8, $"capacity {parser.Command.Capacity}");
    }
}
