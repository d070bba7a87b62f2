using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Commands;

/// <summary>
/// Runs parsed commands against a <see cref="Keyspace"/> and encodes each reply into a <see cref="RespWriter"/>:
/// the service between the parser and the encoder, with redis 7's semantics and error texts (arity,
/// <c>WRONGTYPE</c>, integer syntax, option syntax). Knows nothing of sockets. Allocation-free for PING, ECHO,
/// GET, SET/MSET of existing keys, INCR/DECR/INCRBY/DECRBY, EXISTS, TTL and LLEN.
/// </summary>
/// <example>
/// <code>
/// var executor = new CommandExecutor(new Keyspace(Clock.Monotonic), new ServerSettings());
/// var parser = new RespParser(RespLimits.Default);
/// var writer = new RespWriter();
/// byte[] input = "SET k v\r\nGET k\r\n"u8.ToArray();
/// int start = 0;
/// while (parser.TryParse(input, start, input.Length, out int used) == ParseStatus.Command)
/// {
///     start += used;
///     executor.Execute(parser.Command, new ClientState(1), writer);
/// }
/// // writer.Written is "+OK\r\n$1\r\nv\r\n"
/// </code>
/// </example>
public sealed partial class CommandExecutor
{
    private readonly Keyspace _keyspace;
    private readonly ServerSettings _settings;
    private readonly List<byte[]> _keysScratch = [];

    /// <summary>Creates an executor over <paramref name="keyspace"/>.</summary>
    public CommandExecutor(Keyspace keyspace, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(keyspace);
        ArgumentNullException.ThrowIfNull(settings);
        _keyspace = keyspace;
        _settings = settings;
    }

    /// <summary>The database commands run against.</summary>
    public Keyspace Keyspace => _keyspace;

    /// <summary>Runs <paramref name="command"/> for <paramref name="client"/> and appends its reply to <paramref name="writer"/>.</summary>
    public AfterReply Execute(RespCommand command, ClientState client, RespWriter writer)
    {
        CommandSpec? spec = command.Spec;
        if (spec is null)
        {
            UnknownCommand(command, writer);
            return AfterReply.Continue;
        }

        if (!spec.AcceptsArgumentCount(command.Count))
        {
            WrongArity(spec.NameBytes, writer);
            return AfterReply.Continue;
        }

        switch (spec.Kind)
        {
            case CommandKind.Ping: Ping(command, writer); break;
            case CommandKind.Echo: writer.Bulk(command[1]); break;
            case CommandKind.Get: Get(command, writer); break;
            case CommandKind.Set: Set(command, writer); break;
            case CommandKind.Incr: IncrementBy(command[1], 1, writer); break;
            case CommandKind.Decr: IncrementBy(command[1], -1, writer); break;
            case CommandKind.IncrBy: IncrBy(command, writer); break;
            case CommandKind.DecrBy: DecrBy(command, writer); break;
            case CommandKind.MGet: MGet(command, writer); break;
            case CommandKind.MSet: MSet(command, writer); break;
            case CommandKind.Del: Del(command, writer); break;
            case CommandKind.Exists: Exists(command, writer); break;
            case CommandKind.Expire: Expire(command, 1000, writer); break;
            case CommandKind.PExpire: Expire(command, 1, writer); break;
            case CommandKind.Ttl: Ttl(command, milliseconds: false, writer); break;
            case CommandKind.PTtl: Ttl(command, milliseconds: true, writer); break;
            case CommandKind.Keys: Keys(command, writer); break;
            case CommandKind.DbSize: writer.Integer(_keyspace.Count); break;
            case CommandKind.FlushDb: FlushDb(command, writer); break;
            case CommandKind.LPush: Push(command, head: true, writer); break;
            case CommandKind.RPush: Push(command, head: false, writer); break;
            case CommandKind.LPop: Pop(command, head: true, writer); break;
            case CommandKind.RPop: Pop(command, head: false, writer); break;
            case CommandKind.LRange: LRange(command, writer); break;
            case CommandKind.LLen: LLen(command, writer); break;
            case CommandKind.Quit:
                writer.Ok();
                return AfterReply.Close;
            case CommandKind.Select: Select(command, writer); break;
            case CommandKind.Config: Config(command, writer); break;
            case CommandKind.Command: CommandCommand(command, writer); break;
            case CommandKind.Client: Client(command, client, writer); break;
            default:
                UnknownCommand(command, writer);
                break;
        }

        return AfterReply.Continue;
    }

    /// <summary><c>-ERR unknown command 'name', with args beginning with: 'a' 'b' </c>, as redis 7 words it.</summary>
    private static void UnknownCommand(RespCommand command, RespWriter writer)
    {
        writer.BeginError();
        writer.ErrorText("ERR unknown command '"u8);
        writer.ErrorText(CString(command[0], 128));
        writer.ErrorText("', with args beginning with: "u8);
        int argsLength = 0;
        for (int i = 1; i < command.Count && argsLength < 128; i++)
        {
            ReadOnlySpan<byte> arg = CString(command[i], 128 - argsLength);
            writer.ErrorText("'"u8);
            writer.ErrorText(arg);
            writer.ErrorText("' "u8);
            argsLength += arg.Length + 3;
        }

        writer.EndError();
    }

    /// <summary><c>-ERR wrong number of arguments for 'name' command</c> (name lower-case; <c>config|get</c> for a subcommand).</summary>
    private static void WrongArity(ReadOnlySpan<byte> name, RespWriter writer)
    {
        writer.BeginError();
        writer.ErrorText("ERR wrong number of arguments for '"u8);
        writer.ErrorText(name);
        writer.ErrorText("' command"u8);
        writer.EndError();
    }

    /// <summary>redis formats user text with <c>%.Ns</c>: it stops at a NUL byte and after <paramref name="max"/> bytes.</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> text, int max)
    {
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }

        return text.Length > max ? text[..max] : text;
    }

    private static bool IsWord(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> lowerCaseWord) =>
        argument.Length == lowerCaseWord.Length && System.Text.Ascii.EqualsIgnoreCase(argument, lowerCaseWord);
}
