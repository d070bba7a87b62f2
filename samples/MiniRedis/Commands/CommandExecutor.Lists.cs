using MiniRedis.Protocol;
using MiniRedis.Storage;

namespace MiniRedis.Commands;

/// <summary>List commands: LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN.</summary>
public sealed partial class CommandExecutor
{
    private void Push(RespCommand command, bool head, RespWriter writer)
    {
        Entry? entry = _keyspace.Find(command[1]);
        if (entry is not null && entry.Kind != ValueKind.List)
        {
            writer.Error(Replies.WrongType);
            return;
        }

        ByteList list = (entry ?? _keyspace.GetOrAdd(command[1], out _)).ListOrNew();
        for (int i = 2; i < command.Count; i++)
        {
            if (head)
            {
                list.PushHead(command[i]);
            }
            else
            {
                list.PushTail(command[i]);
            }
        }

        writer.Integer(list.Count);
    }

    /// <summary>LPOP / RPOP key [count]: a bulk (or null) without a count, an array (or null array) with one.</summary>
    private void Pop(RespCommand command, bool head, RespWriter writer)
    {
        if (command.Count > 3)
        {
            WrongArity(head ? "lpop"u8 : "rpop"u8, writer);
            return;
        }

        bool hasCount = command.Count == 3;
        long count = 0;
        if (hasCount)
        {
            if (!RedisNumber.TryParse(command[2], out count) || count < 0)
            {
                writer.Error(Replies.NotPositive);
                return;
            }
        }

        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            if (hasCount)
            {
                writer.NullArray();
            }
            else
            {
                writer.NullBulk();
            }

            return;
        }

        if (entry.Kind != ValueKind.List)
        {
            writer.Error(Replies.WrongType);
            return;
        }

        ByteList list = entry.List;
        if (!hasCount)
        {
            writer.Bulk(head ? list.PopHead() : list.PopTail());
        }
        else
        {
            int n = (int)Math.Min(count, list.Count);
            writer.ArrayHeader(n);
            for (int i = 0; i < n; i++)
            {
                writer.Bulk(head ? list.PopHead() : list.PopTail());
            }
        }

        if (list.Count == 0)
        {
            _keyspace.Remove(entry);
        }
    }

    private void LRange(RespCommand command, RespWriter writer)
    {
        if (!RedisNumber.TryParse(command[2], out long start) || !RedisNumber.TryParse(command[3], out long end))
        {
            writer.Error(Replies.NotInteger);
            return;
        }

        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            writer.ArrayHeader(0);
            return;
        }

        if (entry.Kind != ValueKind.List)
        {
            writer.Error(Replies.WrongType);
            return;
        }

        ByteList list = entry.List;
        long length = list.Count;
        if (start < 0)
        {
            start += length;
        }

        if (end < 0)
        {
            end += length;
        }

        if (start < 0)
        {
            start = 0;
        }

        if (start > end || start >= length)
        {
            writer.ArrayHeader(0);
            return;
        }

        if (end >= length)
        {
            end = length - 1;
        }

        writer.ArrayHeader((int)(end - start + 1));
        for (long i = start; i <= end; i++)
        {
            writer.Bulk(list[(int)i]);
        }
    }

    private void LLen(RespCommand command, RespWriter writer)
    {
        Entry? entry = _keyspace.Find(command[1]);
        if (entry is null)
        {
            writer.Integer(0);
        }
        else if (entry.Kind != ValueKind.List)
        {
            writer.Error(Replies.WrongType);
        }
        else
        {
            writer.Integer(entry.List.Count);
        }
    }
}
