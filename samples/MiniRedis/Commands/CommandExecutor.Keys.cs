using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Commands;

/// <summary>Keyspace commands: DEL, EXISTS, EXPIRE, PEXPIRE, TTL, PTTL, KEYS, FLUSHDB.</summary>
public sealed partial class CommandExecutor
{
    [Flags]
    private enum ExpireOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }

    private void Del(RespCommand command, RespWriter writer)
    {
        long removed = 0;
        for (int i = 1; i < command.Count; i++)
        {
            if (_keyspace.Remove(command[i]))
            {
                removed++;
            }
        }

        writer.Integer(removed);
    }

    private void Exists(RespCommand command, RespWriter writer)
    {
        long found = 0;
        for (int i = 1; i < command.Count; i++)
        {
            if (_keyspace.Find(command[i]) is not null)
            {
                found++;
            }
        }

        writer.Integer(found);
    }

    /// <summary>EXPIRE / PEXPIRE key time [NX | XX | GT | LT], as redis 7's <c>expireGenericCommand</c>.</summary>
    private void Expire(RespCommand command, long unitMilliseconds, RespWriter writer)
    {
        ExpireOptions options = ExpireOptions.None;
        for (int j = 3; j < command.Count; j++)
        {
            ReadOnlySpan<byte> option = command[j];
            if (IsWord(option, "nx"u8))
            {
                options |= ExpireOptions.Nx;
            }
            else if (IsWord(option, "xx"u8))
            {
                options |= ExpireOptions.Xx;
            }
            else if (IsWord(option, "gt"u8))
            {
                options |= ExpireOptions.Gt;
            }
            else if (IsWord(option, "lt"u8))
            {
                options |= ExpireOptions.Lt;
            }
            else
            {
                writer.BeginError();
                writer.ErrorText("ERR Unsupported option "u8);
                writer.ErrorText(CString(option, int.MaxValue));
                writer.EndError();
                return;
            }
        }

        if ((options & ExpireOptions.Nx) != 0 && (options & (ExpireOptions.Xx | ExpireOptions.Gt | ExpireOptions.Lt)) != 0)
        {
            writer.Error("ERR NX and XX, GT or LT options at the same time are not compatible"u8);
            return;
        }

        if ((options & (ExpireOptions.Gt | ExpireOptions.Lt)) == (ExpireOptions.Gt | ExpireOptions.Lt))
        {
            writer.Error("ERR GT and LT options at the same time are not compatible"u8);
            return;
        }

        if (!RedisNumber.TryParse(command[2], out long when))
        {
            writer.Error(Replies.NotInteger);
            return;
        }

        ReadOnlySpan<byte> invalid = unitMilliseconds == 1
            ? "ERR invalid expire time in 'pexpire' command"u8
            : "ERR invalid expire time in 'expire' command"u8;
        if (unitMilliseconds != 1)
        {
            if (when > long.MaxValue / unitMilliseconds || when < long.MinValue / unitMilliseconds)
            {
                writer.Error(invalid);
                return;
            }

            when *= unitMilliseconds;
        }

        long now = _keyspace.Now;
        if (when > long.MaxValue - now - 1)
        {
            writer.Error(invalid);
            return;
        }

        when += now;
        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            writer.Integer(0);
            return;
        }

        if (options != ExpireOptions.None)
        {
            bool has = entry.HasExpiry;
            long current = entry.ExpiresAt;
            if (((options & ExpireOptions.Nx) != 0 && has) ||
                ((options & ExpireOptions.Xx) != 0 && !has) ||
                ((options & ExpireOptions.Gt) != 0 && (!has || when <= current)) ||
                ((options & ExpireOptions.Lt) != 0 && has && when >= current))
            {
                writer.Integer(0);
                return;
            }
        }

        if (when <= now)
        {
            _keyspace.Remove(entry);   // already expired: redis deletes the key at once
        }
        else
        {
            _keyspace.SetExpiry(entry, when);
        }

        writer.Integer(1);
    }

    private void Ttl(RespCommand command, bool milliseconds, RespWriter writer)
    {
        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            writer.Integer(-2);
            return;
        }

        if (!entry.HasExpiry)
        {
            writer.Integer(-1);
            return;
        }

        long ttl = Math.Max(0, entry.ExpiresAt - _keyspace.Now);
        writer.Integer(milliseconds ? ttl : (ttl + 500) / 1000);
    }

    private void Keys(RespCommand command, RespWriter writer)
    {
        _keysScratch.Clear();
        _keyspace.CollectKeys(command[1], _keysScratch);
        writer.ArrayHeader(_keysScratch.Count);
        foreach (byte[] key in _keysScratch)
        {
            writer.Bulk(key);
        }

        _keysScratch.Clear();
    }

    private void FlushDb(RespCommand command, RespWriter writer)
    {
        if (command.Count > 2 || (command.Count == 2 && !IsWord(command[1], "sync"u8) && !IsWord(command[1], "async"u8)))
        {
            writer.Error(Replies.SyntaxError);
            return;
        }

        _keyspace.Clear();
        writer.Ok();
    }
}
