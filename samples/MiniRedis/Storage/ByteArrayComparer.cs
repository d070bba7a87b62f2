namespace MiniRedis.Storage;

/// <summary>
/// Compares keys by content, and lets a dictionary keyed by <c>byte[]</c> be searched with a
/// <see cref="ReadOnlySpan{T}"/> of bytes (an alternate lookup), so a key that arrives in a read buffer is found
/// without copying it into an array first.
/// </summary>
/// <example>
/// <code>
/// var map = new Dictionary&lt;byte[], int&gt;(ByteArrayComparer.Instance);
/// var bySpan = map.GetAlternateLookup&lt;ReadOnlySpan&lt;byte&gt;&gt;();
/// bySpan.TryGetValue("key"u8, out int value);
/// </code>
/// </example>
public sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    /// <summary>The one instance (it has no state).</summary>
    public static ByteArrayComparer Instance { get; } = new();

    private ByteArrayComparer()
    {
    }

    /// <inheritdoc/>
    public bool Equals(byte[]? x, byte[]? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    /// <inheritdoc/>
    public int GetHashCode(byte[] obj) => Hash(obj);

    /// <inheritdoc/>
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    /// <inheritdoc/>
    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    /// <inheritdoc/>
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();   // randomly seeded per process: no hash flooding with chosen keys
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }
}
