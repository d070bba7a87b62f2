namespace MiniRedis.Storage;

/// <summary>
/// A redis list: a ring buffer of byte strings, O(1) at both ends and by index. Pushing copies the value into
/// a new array (the list must own it); popping hands the array back.
/// </summary>
/// <example>
/// <code>
/// var list = new ByteList();
/// list.PushHead("a"u8);
/// list.PushTail("b"u8);
/// byte[] first = list.PopHead();   // "a"
/// </code>
/// </example>
public sealed class ByteList
{
    private byte[][] _items = new byte[4][];
    private int _head;

    /// <summary>Number of elements.</summary>
    public int Count { get; private set; }

    /// <summary>Element <paramref name="index"/> counted from the head (0 ≤ index &lt; Count).</summary>
    public byte[] this[int index] => _items[(_head + index) & (_items.Length - 1)];

    /// <summary>Adds a copy of <paramref name="value"/> before the first element.</summary>
    public void PushHead(ReadOnlySpan<byte> value)
    {
        EnsureRoom();
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = value.ToArray();
        Count++;
    }

    /// <summary>Adds a copy of <paramref name="value"/> after the last element.</summary>
    public void PushTail(ReadOnlySpan<byte> value)
    {
        EnsureRoom();
        _items[(_head + Count) & (_items.Length - 1)] = value.ToArray();
        Count++;
    }

    /// <summary>Removes and returns the first element; the list must not be empty.</summary>
    public byte[] PopHead()
    {
        byte[] value = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return value;
    }

    /// <summary>Removes and returns the last element; the list must not be empty.</summary>
    public byte[] PopTail()
    {
        int at = (_head + Count - 1) & (_items.Length - 1);
        byte[] value = _items[at];
        _items[at] = null!;
        Count--;
        return value;
    }

    private void EnsureRoom()
    {
        if (Count < _items.Length)
        {
            return;
        }

        var grown = new byte[_items.Length * 2][];
        for (int i = 0; i < Count; i++)
        {
            grown[i] = this[i];
        }

        _items = grown;
        _head = 0;
    }
}
