using Polling;

namespace MiniRedis.Storage;

/// <summary>
/// One key of the <see cref="Keyspace"/>: its value (a string kept in a reusable array, or a list) and its
/// expiry. Overwriting a string with one that fits reuses the array, so <c>SET</c> and <c>INCR</c> of an existing
/// key allocate nothing.
/// </summary>
/// <example>
/// <code>
/// Entry? entry = keyspace.Find("k"u8);
/// if (entry is { Kind: ValueKind.String }) writer.Bulk(entry.StringValue);
/// </code>
/// </example>
public sealed class Entry
{
    /// <summary>Room kept for a string value at least, so small values and integers are rewritten in place.</summary>
    private const int MinimumCapacity = 24;

    private byte[] _string = [];
    private int _stringLength;

    internal Entry(byte[] key) => Key = key;

    /// <summary>The key (owned by the keyspace; do not modify).</summary>
    public byte[] Key { get; }

    /// <summary>What the value is.</summary>
    public ValueKind Kind { get; private set; }

    /// <summary>The string value (when <see cref="Kind"/> is <see cref="ValueKind.String"/>).</summary>
    public ReadOnlySpan<byte> StringValue => new(_string, 0, _stringLength);

    /// <summary>The list (when <see cref="Kind"/> is <see cref="ValueKind.List"/>).</summary>
    public ByteList List { get; private set; } = null!;

    /// <summary>When the key expires, in <see cref="Clock"/> milliseconds: alive while now ≤ this. <see cref="long.MaxValue"/>: never.</summary>
    public long ExpiresAt { get; internal set; } = long.MaxValue;

    /// <summary>True if the key has an expiry.</summary>
    public bool HasExpiry => ExpiresAt != long.MaxValue;

    /// <summary>The entry's slot among expiring keys (-1: none) and its timeout on the wheel.</summary>
    internal int ExpirySlot { get; set; } = -1;

    internal TimerKey Timer { get; set; }

    /// <summary>Makes the value the string <paramref name="value"/>, reusing the current array when it fits.</summary>
    public void SetString(ReadOnlySpan<byte> value)
    {
        Kind = ValueKind.String;
        List = null!;
        if (value.Length > _string.Length || _string.Length > Math.Max(MinimumCapacity, value.Length * 2))
        {
            _string = new byte[Math.Max(MinimumCapacity, value.Length)];
        }

        value.CopyTo(_string);
        _stringLength = value.Length;
    }

    /// <summary>Makes the value the decimal text of <paramref name="value"/> (INCR's result), in place.</summary>
    public void SetInteger(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, digits, out int count);
        SetString(digits[..count]);
    }

    /// <summary>The list, after making the value an empty list if it is not one (a new key).</summary>
    public ByteList ListOrNew() => Kind == ValueKind.List ? List : MakeList();

    /// <summary>Makes the value an empty list (filled by the caller).</summary>
    public ByteList MakeList()
    {
        Kind = ValueKind.List;
        _string = [];
        _stringLength = 0;
        List = new ByteList();
        return List;
    }
}
