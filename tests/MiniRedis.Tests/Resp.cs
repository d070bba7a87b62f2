using System.Text;
using MiniRedis.Commands;
using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Tests;

/// <summary>Helpers: RESP text in and out, and a keyspace + executor to run commands against.</summary>
internal static class Resp
{
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>A multibulk command: <c>*N\r\n$len\r\narg\r\n...</c>.</summary>
    public static string Command(params string[] args)
    {
        var text = new StringBuilder();
        text.Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            text.Append('$').Append(Encoding.Latin1.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        return text.ToString();
    }
}

/// <summary>A keyspace on a manual clock, and a way to run one command and get its reply as text.</summary>
internal sealed class Db
{
    private readonly RespParser _parser = new(RespLimits.Default);
    private readonly RespWriter _writer = new();
    private readonly ClientState _client = new(1);

    public Db()
    {
        Keyspace = new Keyspace(Clock);
        Executor = new CommandExecutor(Keyspace, new ServerSettings { Port = 6380 });
    }

    public ManualClock Clock { get; } = new();

    public Keyspace Keyspace { get; }

    public CommandExecutor Executor { get; }

    public AfterReply LastOutcome { get; private set; }

    /// <summary>Runs one command given as arguments; returns the reply, e.g. "+OK\r\n".</summary>
    public string Run(params string[] args)
    {
        byte[] input = Resp.Bytes(Resp.Command(args));
        ParseStatus status = _parser.TryParse(input, 0, input.Length, out int consumed);
        Assert.Equal(ParseStatus.Command, status);
        Assert.Equal(input.Length, consumed);
        _writer.Clear();
        LastOutcome = Executor.Execute(_parser.Command, _client, _writer);
        return Resp.Text(_writer.Written);
    }
}
