using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Commands;

/// <summary>String commands: PING, GET, SET, INCR and friends, MGET, MSET.</summary>
public sealed partial class CommandExecutor
{
    [Flags]
    private enum SetOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Ex = 16,
        Px = 32,
    }

    private static void Ping(RespCommand command, RespWriter writer)
    {
        switch (command.Count)
        {
            case 1:
                writer.Raw("+PONG\r\n"u8);
                break;
            case 2:
                writer.Bulk(command[1]);
                break;
            default:
                WrongArity("ping"u8, writer);
                break;
        }
    }

    private void Get(RespCommand command, RespWriter writer)
    {
        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            writer.NullBulk();
        }
        else if (entry.Kind != ValueKind.String)
        {
            writer.Error(Replies.WrongType);
        }
        else
        {
            writer.Bulk(entry.StringValue);
        }
    }

    /// <summary>SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL], parsed as redis 7 does.</summary>
    private void Set(RespCommand command, RespWriter writer)
    {
        SetOptions options = SetOptions.None;
        int expireArgument = -1;
        for (int j = 3; j < command.Count; j++)
        {
            ReadOnlySpan<byte> option = command[j];
            bool hasNext = j < command.Count - 1;
            if (IsWord(option, "nx"u8) && (options & SetOptions.Xx) == 0)
            {
                options |= SetOptions.Nx;
            }
            else if (IsWord(option, "xx"u8) && (options & SetOptions.Nx) == 0)
            {
                options |= SetOptions.Xx;
            }
            else if (IsWord(option, "get"u8))
            {
                options |= SetOptions.Get;
            }
            else if (IsWord(option, "keepttl"u8) && (options & (SetOptions.Ex | SetOptions.Px)) == 0)
            {
                options |= SetOptions.KeepTtl;
            }
            else if (IsWord(option, "ex"u8) && (options & (SetOptions.KeepTtl | SetOptions.Px)) == 0 && hasNext)
            {
                options |= SetOptions.Ex;
                expireArgument = ++j;
            }
            else if (IsWord(option, "px"u8) && (options & (SetOptions.KeepTtl | SetOptions.Ex)) == 0 && hasNext)
            {
                options |= SetOptions.Px;
                expireArgument = ++j;
            }
            else
            {
                writer.Error(Replies.SyntaxError);
                return;
            }
        }

        long expiresAt = long.MaxValue;
        if (expireArgument > 0 && !TryExpireTime(command[expireArgument], (options & SetOptions.Ex) != 0, writer, out expiresAt))
        {
            return;
        }

        ReadOnlySpan<byte> key = command[1];
        Entry? entry = _keyspace.Find(key);
        if ((options & SetOptions.Get) != 0)
        {
            if (entry is null)
            {
                writer.NullBulk();
            }
            else if (entry.Kind != ValueKind.String)
            {
                writer.Error(Replies.WrongType);
                return;
            }
            else
            {
                writer.Bulk(entry.StringValue);
            }
        }

        if (((options & SetOptions.Nx) != 0 && entry is not null) || ((options & SetOptions.Xx) != 0 && entry is null))
        {
            if ((options & SetOptions.Get) == 0)
            {
                writer.NullBulk();
            }

            return;
        }

        entry ??= _keyspace.GetOrAdd(key, out _);
        entry.SetString(command[2]);
        if (expiresAt != long.MaxValue)
        {
            _keyspace.SetExpiry(entry, expiresAt);
        }
        else if ((options & SetOptions.KeepTtl) == 0 && entry.HasExpiry)
        {
            _keyspace.ClearExpiry(entry);
        }

        if ((options & SetOptions.Get) == 0)
        {
            writer.Ok();
        }
    }

    /// <summary>redis's <c>getExpireMillisecondsOrReply</c> for SET's EX/PX: a positive integer that does not overflow.</summary>
    private bool TryExpireTime(ReadOnlySpan<byte> argument, bool seconds, RespWriter writer, out long expiresAt)
    {
        expiresAt = long.MaxValue;
        if (!RedisNumber.TryParse(argument, out long amount))
        {
            writer.Error(Replies.NotInteger);
            return false;
        }

        long now = _keyspace.Now;
        if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
        {
            writer.Error("ERR invalid expire time in 'set' command"u8);
            return false;
        }

        long milliseconds = seconds ? amount * 1000 : amount;
        if (milliseconds > long.MaxValue - now - 1)
        {
            writer.Error("ERR invalid expire time in 'set' command"u8);
            return false;
        }

        expiresAt = now + milliseconds;
        return true;
    }

    private void IncrBy(RespCommand command, RespWriter writer)
    {
        if (!RedisNumber.TryParse(command[2], out long increment))
        {
            writer.Error(Replies.NotInteger);
            return;
        }

        IncrementBy(command[1], increment, writer);
    }

    private void DecrBy(RespCommand command, RespWriter writer)
    {
        if (!RedisNumber.TryParse(command[2], out long decrement))
        {
            writer.Error(Replies.NotInteger);
            return;
        }

        if (decrement == long.MinValue)
        {
            writer.Error("ERR decrement would overflow"u8);
            return;
        }

        IncrementBy(command[1], -decrement, writer);
    }

    /// <summary>INCR, DECR, INCRBY, DECRBY: the value parsed strictly, overflow refused, the expiry kept.</summary>
    private void IncrementBy(ReadOnlySpan<byte> key, long increment, RespWriter writer)
    {
        Entry? entry = _keyspace.Find(key);
        long value = 0;
        if (entry is not null)
        {
            if (entry.Kind != ValueKind.String)
            {
                writer.Error(Replies.WrongType);
                return;
            }

            if (!RedisNumber.TryParse(entry.StringValue, out value))
            {
                writer.Error(Replies.NotInteger);
                return;
            }
        }

        if ((increment < 0 && value < 0 && increment < long.MinValue - value) ||
            (increment > 0 && value > 0 && increment > long.MaxValue - value))
        {
            writer.Error(Replies.Overflow);
            return;
        }

        value += increment;
        entry ??= _keyspace.GetOrAdd(key, out _);
        entry.SetInteger(value);
        writer.Integer(value);
    }

    private void MGet(RespCommand command, RespWriter writer)
    {
        writer.ArrayHeader(command.Count - 1);
        for (int i = 1; i < command.Count; i++)
        {
            Entry? entry = _keyspace.Find(command[i]);
            if (entry is { Kind: ValueKind.String })
            {
                writer.Bulk(entry.StringValue);
            }
            else
            {
                writer.NullBulk();
            }
        }
    }

    private void MSet(RespCommand command, RespWriter writer)
    {
        if (command.Count % 2 == 0)
        {
            WrongArity("mset"u8, writer);
            return;
        }

        for (int i = 1; i < command.Count; i += 2)
        {
            Entry entry = _keyspace.GetOrAdd(command[i], out _);
            entry.SetString(command[i + 1]);
            if (entry.HasExpiry)
            {
                _keyspace.ClearExpiry(entry);
            }
        }

        writer.Ok();
    }
}
