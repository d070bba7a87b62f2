using System.Text;
using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Commands;

/// <summary>Connection and server commands: SELECT, CONFIG, COMMAND, CLIENT — enough for redis-cli and redis-benchmark.</summary>
public sealed partial class CommandExecutor
{
    private void Select(RespCommand command, RespWriter writer)
    {
        if (!RedisNumber.TryParse(command[1], out long index) || index is < int.MinValue or > int.MaxValue)
        {
            writer.Error(Replies.NotInteger);
        }
        else if (index != 0)
        {
            writer.Error(Replies.DbIndexOutOfRange);
        }
        else
        {
            writer.Ok();
        }
    }

    /// <summary>CONFIG GET pattern [pattern ...] over the few parameters MiniRedis has; CONFIG RESETSTAT; CONFIG HELP.</summary>
    private void Config(RespCommand command, RespWriter writer)
    {
        ReadOnlySpan<byte> sub = command[1];
        if (IsWord(sub, "get"u8))
        {
            if (command.Count < 3)
            {
                WrongArity("config|get"u8, writer);
                return;
            }

            Span<(string Name, string Value)> parameters =
            [
                ("bind", "127.0.0.1"),
                ("port", _settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("save", ""),
                ("appendonly", "no"),
                ("databases", "1"),
                ("timeout", "0"),
                ("maxmemory", "0"),
                ("proto-max-bulk-len", _settings.Limits.MaxBulkLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("client-query-buffer-limit", _settings.Limits.MaxQueryBufferLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ];
            var matched = new List<(string Name, string Value)>();
            foreach ((string name, string value) in parameters)
            {
                byte[] nameBytes = Encoding.ASCII.GetBytes(name);
                for (int i = 2; i < command.Count; i++)
                {
                    byte[] pattern = command[i].ToArray();
                    Ascii.ToLowerInPlace(pattern, out _);
                    if (Glob.IsMatch(pattern, nameBytes))
                    {
                        matched.Add((name, value));
                        break;
                    }
                }
            }

            writer.ArrayHeader(matched.Count * 2);
            foreach ((string name, string value) in matched)
            {
                writer.Bulk(Encoding.ASCII.GetBytes(name));
                writer.Bulk(Encoding.ASCII.GetBytes(value));
            }
        }
        else if (IsWord(sub, "set"u8))
        {
            if (command.Count < 4)
            {
                WrongArity("config|set"u8, writer);
                return;
            }

            writer.BeginError();
            writer.ErrorText("ERR Unknown option or number of arguments for CONFIG SET - '"u8);
            writer.ErrorText(CString(command[2], int.MaxValue));
            writer.ErrorText("'"u8);
            writer.EndError();
        }
        else if (IsWord(sub, "resetstat"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("config|resetstat"u8, writer);
                return;
            }

            writer.Ok();
        }
        else if (IsWord(sub, "help"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("config|help"u8, writer);
                return;
            }

            Help(writer, "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                "RESETSTAT", "    Reset statistics reported by the INFO command (MiniRedis keeps none).");
        }
        else
        {
            UnknownSubcommand(command, "CONFIG", writer);
        }
    }

    /// <summary>COMMAND, COMMAND COUNT, COMMAND INFO [name ...], COMMAND LIST, COMMAND DOCS (empty), COMMAND HELP.</summary>
    private static void CommandCommand(RespCommand command, RespWriter writer)
    {
        if (command.Count == 1)
        {
            writer.ArrayHeader(CommandTable.All.Count);
            foreach (CommandSpec spec in CommandTable.All)
            {
                CommandInfo(spec, writer);
            }

            return;
        }

        ReadOnlySpan<byte> sub = command[1];
        if (IsWord(sub, "count"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("command|count"u8, writer);
                return;
            }

            writer.Integer(CommandTable.All.Count);
        }
        else if (IsWord(sub, "info"u8))
        {
            if (command.Count == 2)
            {
                writer.ArrayHeader(CommandTable.All.Count);
                foreach (CommandSpec spec in CommandTable.All)
                {
                    CommandInfo(spec, writer);
                }

                return;
            }

            writer.ArrayHeader(command.Count - 2);
            for (int i = 2; i < command.Count; i++)
            {
                if (CommandTable.Find(command[i]) is { } spec)
                {
                    CommandInfo(spec, writer);
                }
                else
                {
                    writer.NullArray();
                }
            }
        }
        else if (IsWord(sub, "list"u8))
        {
            writer.ArrayHeader(CommandTable.All.Count);
            foreach (CommandSpec spec in CommandTable.All)
            {
                writer.Bulk(spec.NameBytes);
            }
        }
        else if (IsWord(sub, "docs"u8))
        {
            writer.ArrayHeader(0);   // no documentation: redis-cli falls back to its built-in help
        }
        else if (IsWord(sub, "help"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("command|help"u8, writer);
                return;
            }

            Help(writer, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)", "    Return details about all commands.",
                "COUNT", "    Return the total number of commands.",
                "INFO [<command-name> ...]", "    Return details about the given commands, or all of them.",
                "LIST", "    Return the names of all commands.",
                "DOCS [<command-name> ...]", "    Return documentation (MiniRedis has none: an empty reply).");
        }
        else
        {
            UnknownSubcommand(command, "COMMAND", writer);
        }
    }

    /// <summary>One command's COMMAND entry in redis 7's ten-field layout.</summary>
    private static void CommandInfo(CommandSpec spec, RespWriter writer)
    {
        writer.ArrayHeader(10);
        writer.Bulk(spec.NameBytes);
        writer.Integer(spec.Arity);
        writer.ArrayHeader(spec.Flags.Count);
        foreach (string flag in spec.Flags)
        {
            writer.SimpleString(Encoding.ASCII.GetBytes(flag));
        }

        writer.Integer(spec.FirstKey);
        writer.Integer(spec.LastKey);
        writer.Integer(spec.KeyStep);
        writer.ArrayHeader(0);   // ACL categories
        writer.ArrayHeader(0);   // tips
        writer.ArrayHeader(0);   // key specifications
        writer.ArrayHeader(0);   // subcommands
    }

    /// <summary>CLIENT SETNAME / GETNAME / ID / HELP.</summary>
    private static void Client(RespCommand command, ClientState client, RespWriter writer)
    {
        ReadOnlySpan<byte> sub = command[1];
        if (IsWord(sub, "setname"u8))
        {
            if (command.Count != 3)
            {
                WrongArity("client|setname"u8, writer);
                return;
            }

            ReadOnlySpan<byte> name = command[2];
            foreach (byte b in name)
            {
                if (b is < (byte)'!' or > (byte)'~')
                {
                    writer.Error("ERR Client names cannot contain spaces, newlines or special characters."u8);
                    return;
                }
            }

            client.Name = name.IsEmpty ? null : name.ToArray();
            writer.Ok();
        }
        else if (IsWord(sub, "getname"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("client|getname"u8, writer);
            }
            else if (client.Name is null)
            {
                writer.NullBulk();
            }
            else
            {
                writer.Bulk(client.Name);
            }
        }
        else if (IsWord(sub, "id"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("client|id"u8, writer);
            }
            else
            {
                writer.Integer(client.Id);
            }
        }
        else if (IsWord(sub, "help"u8))
        {
            if (command.Count != 2)
            {
                WrongArity("client|help"u8, writer);
                return;
            }

            Help(writer, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.");
        }
        else
        {
            UnknownSubcommand(command, "CLIENT", writer);
        }
    }

    /// <summary><c>-ERR unknown subcommand 'x'. Try CONFIG HELP.</c></summary>
    private static void UnknownSubcommand(RespCommand command, string container, RespWriter writer)
    {
        writer.BeginError();
        writer.ErrorText("ERR unknown subcommand '"u8);
        writer.ErrorText(CString(command[1], 128));
        writer.ErrorText("'. Try "u8);
        writer.ErrorText(Encoding.ASCII.GetBytes(container));
        writer.ErrorText(" HELP."u8);
        writer.EndError();
    }

    private static void Help(RespWriter writer, params string[] lines)
    {
        writer.ArrayHeader(lines.Length + 2);
        foreach (string line in lines)
        {
            writer.SimpleString(Encoding.ASCII.GetBytes(line));
        }

        writer.SimpleString("HELP"u8);
        writer.SimpleString("    Print this help."u8);
    }
}
