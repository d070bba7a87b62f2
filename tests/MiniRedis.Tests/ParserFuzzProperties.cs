using FsCheck;
using FsCheck.Fluent;
using MiniRedis.Commands;
using MiniRedis.Protocol;
using MiniRedis.Server;
using MiniRedis.Storage;

namespace MiniRedis.Tests;

/// <summary>
/// Fuzz-style properties of the connection's protocol path (read buffer, parser, executor, encoder — the loop
/// without its socket): random bytes, random pieces of valid commands and random fragmentations end in replies,
/// a protocol error or a close, never in an exception, and never grow the read buffer past its limit.
/// </summary>
public sealed class ParserFuzzProperties
{
    private static readonly RespLimits Limits = new() { MaxBulkLength = 100, MaxInlineLength = 64, MaxMultibulkLength = 16, MaxQueryBufferLength = 512 };

    private static readonly string[] Fragments =
    [
        "*", "$", "\r\n", "\r", "\n", "*1\r\n", "*2\r\n", "*3\r\n", "*-1\r\n", "*0\r\n", "$3\r\n", "$0\r\n", "$-1\r\n",
        "$100\r\n", "$101\r\n", "$99999999999\r\n", "*17\r\n", "PING", "GET", "SET", "INCR", "LPUSH", "LRANGE", "KEYS",
        "QUIT", "EXPIRE", "PEXPIRE", "MSET", "CONFIG", "CLIENT", "COMMAND", "\"", "'", "\\x4", "\\", " ", "\t", "\0",
        "k", "v", "0", "-1", "9223372036854775807", "*", "[", "]", "^", "?", "EX", "PX", "NX", "XX", "GET k\r\n",
        Resp.Command("SET", "k", "v"), Resp.Command("LPUSH", "l", "a", "b"), Resp.Command("LRANGE", "l", "0", "-1"),
        Resp.Command("INCR", "k"), Resp.Command("KEYS", "*[a-"), Resp.Command("SET", "n", "1", "PX", "5"),
        "$100\r\n" + new string('x', 100) + "\r\n", "*6\r\n" + string.Concat(Enumerable.Repeat("$100\r\n" + new string('y', 100) + "\r\n", 5)),
    ];

    private static Gen<byte[]> Input() =>
        Gen.Frequency(
            (1, ArbMap.Default.GeneratorFor<byte[]>()),
            (3, from parts in Gen.ArrayOf(Gen.Elements(Fragments)) select Resp.Bytes(string.Concat(parts))),
            (1, from parts in Gen.ArrayOf(Gen.OneOf(Gen.Elements(Fragments).Select(Resp.Bytes), ArbMap.Default.GeneratorFor<byte[]>()))
                select parts.SelectMany(p => p).ToArray()));

    private static Gen<int[]> Cuts() => Gen.ArrayOf(Gen.Choose(1, 40));

    [Fact]
    public void Random_input_ends_in_replies_or_a_protocol_error_never_in_an_exception()
    {
        var seen = new HashSet<Outcome>();
        Check.One(Configuration(), Prop.ForAll(Arb.From(Input()), Arb.From(Cuts()), (input, cuts) =>
        {
            Outcome outcome = Feed(input, cuts, out string replies);
            seen.Add(outcome);
            return Prop.Label(outcome != Outcome.Threw && outcome != Outcome.PastLimit, $"{outcome}: {replies}");
        }));

        // The generator reaches every way a connection can end: served to the end, closed after a protocol
        // error or QUIT, and aborted at the query buffer limit.
        Assert.Contains(Outcome.Served, seen);
        Assert.Contains(Outcome.Closed, seen);
        Assert.Contains(Outcome.Aborted, seen);
    }

    [Fact]
    public void Fragmentation_does_not_change_the_replies()
    {
        Gen<string[][]> commands = Gen.ArrayOf(Gen.Elements(
            new[] { "SET", "k", "v" }, new[] { "GET", "k" }, new[] { "INCR", "n" }, new[] { "LPUSH", "l", "x y" },
            new[] { "LRANGE", "l", "0", "-1" }, new[] { "PING" }, new[] { "ECHO", "\r\n" }, new[] { "MGET", "k", "n", "l" },
            new[] { "DEL", "k" }, new[] { "NOSUCH", "a" }, new[] { "SET", "k" }, new[] { "EXISTS", "k", "l" }));
        Check.One(Configuration(), Prop.ForAll(Arb.From(commands), Arb.From(Cuts()), Arb.From(Gen.Elements(true, false)), (list, cuts, inline) =>
        {
            string text = string.Concat(list.Select(args => inline && args.All(a => a.All(char.IsLetterOrDigit))
                ? string.Join(' ', args) + "\r\n"
                : Resp.Command(args)));
            byte[] input = Resp.Bytes(text);
            Outcome whole = Feed(input, [input.Length + 1], out string expected);
            Outcome pieces = Feed(input, cuts, out string actual);
            return Prop.Label(whole == Outcome.Served && pieces == Outcome.Served && expected == actual, $"{whole}/{pieces}\n{expected}\n---\n{actual}");
        }));
    }

    [Fact]
    public void An_oversized_command_is_refused_within_the_limit()
    {
        // 6 arguments of 100 bytes: each bulk is allowed, the command is not (512-byte query buffer).
        byte[] input = Resp.Bytes(Resp.Command("MSET", new string('a', 100), new string('b', 100), new string('c', 100), new string('d', 100), new string('e', 100), new string('f', 100)));
        Assert.Equal(Outcome.Aborted, Feed(input, [7], out _));
    }

    internal static Config Configuration() => Config.QuickThrowOnFailure.WithMaxTest(400).WithEndSize(80).WithQuietOnSuccess(true);

    internal enum Outcome
    {
        Served,
        Closed,
        Aborted,
        PastLimit,
        Threw,
    }

    /// <summary>Feeds <paramref name="input"/> in pieces of the sizes in <paramref name="cuts"/> (cycled), as the loop would.</summary>
    internal static Outcome Feed(byte[] input, int[] cuts, out string replies)
    {
        var session = new ClientSession(Limits, new ClientState(1));
        var executor = new CommandExecutor(new Keyspace(new ManualClock()), new ServerSettings());
        var writer = new RespWriter();
        var all = new System.Text.StringBuilder();
        replies = "";
        try
        {
            int at = 0;
            int cut = 0;
            while (at < input.Length)
            {
                int piece = Math.Min(input.Length - at, cuts.Length == 0 ? input.Length : cuts[cut++ % cuts.Length]);
                while (piece > 0)
                {
                    Span<byte> room = session.GetReadSpace();
                    if (session.BufferCapacity > Limits.MaxQueryBufferLength)
                    {
                        return Outcome.PastLimit;
                    }

                    if (room.IsEmpty)
                    {
                        replies = all.ToString();
                        return Outcome.Aborted;
                    }

                    int n = Math.Min(room.Length, piece);
                    input.AsSpan(at, n).CopyTo(room);
                    session.Commit(n);
                    at += n;
                    piece -= n;
                    SessionStatus status;
                    do
                    {
                        status = session.Process(executor, writer, outputBudget: 256);
                        all.Append(Resp.Text(writer.Written));
                        writer.Clear();
                    }
                    while (status == SessionStatus.OutputFull);

                    if (status == SessionStatus.Close)
                    {
                        replies = all.ToString();
                        return Outcome.Closed;
                    }

                    if (status == SessionStatus.Abort)
                    {
                        replies = all.ToString();
                        return Outcome.Aborted;
                    }
                }
            }

            replies = all.ToString();
            return Outcome.Served;
        }
        catch (Exception e)
        {
            replies = all + e.ToString();
            return Outcome.Threw;
        }
    }
}
