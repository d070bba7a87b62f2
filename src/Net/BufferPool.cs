namespace Polling.Net;

/// <summary>
/// A pool of fixed-size byte chunks for <see cref="OutputQueue"/>s: a connection's pending output borrows chunks
/// while the peer is slow and gives them back as soon as they are written, so memory follows the output actually
/// waiting rather than the number of connections, and steady state allocates nothing.
/// </summary>
/// <remarks>
/// Not thread-safe: a pool belongs to one loop thread. <see cref="ForCurrentThread"/> gives each thread its own;
/// pass a pool of your own to size chunks or the retained amount differently. The pool keeps at most
/// <see cref="MaxRetained"/> returned chunks and lets the garbage collector have the rest.
/// </remarks>
/// <example>
/// <code>
/// var pool = new BufferPool(chunkSize: 4096, maxRetained: 4096);   // 16 MiB kept at most
/// var output = new OutputQueue(highWaterMark: 64 * 1024, pool);
/// </code>
/// </example>
public sealed class BufferPool
{
    /// <summary>The default chunk size: 16 KiB, a typical socket write.</summary>
    public const int DefaultChunkSize = 16 * 1024;

    /// <summary>The default number of chunks kept for reuse: 1024 (16 MiB of 16 KiB chunks).</summary>
    public const int DefaultMaxRetained = 1024;

    [ThreadStatic]
    private static BufferPool? s_current;

    private byte[][] _free;
    private int _count;

    /// <summary>Creates an empty pool.</summary>
    /// <param name="chunkSize">Bytes per chunk: 256 to 1 MiB.</param>
    /// <param name="maxRetained">Returned chunks to keep for reuse: 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public BufferPool(int chunkSize = DefaultChunkSize, int maxRetained = DefaultMaxRetained)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 256);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, 1024 * 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        ChunkSize = chunkSize;
        MaxRetained = maxRetained;
        _free = new byte[Math.Min(maxRetained, 64)][];
    }

    /// <summary>The calling thread's own pool (16 KiB chunks), created on first use.</summary>
    public static BufferPool ForCurrentThread => s_current ??= new BufferPool();

    /// <summary>The size of every chunk, in bytes.</summary>
    public int ChunkSize { get; }

    /// <summary>The most returned chunks the pool keeps.</summary>
    public int MaxRetained { get; }

    /// <summary>How many chunks wait in the pool for reuse.</summary>
    public int Retained => _count;

    /// <summary>A chunk of <see cref="ChunkSize"/> bytes (its contents are undefined): a reused one, or a new one if the pool is empty.</summary>
    public byte[] Rent()
    {
        if (_count == 0)
        {
            return GC.AllocateUninitializedArray<byte>(ChunkSize);
        }

        byte[] chunk = _free[--_count];
        _free[_count] = null!;
        return chunk;
    }

    /// <summary>Gives a chunk back for reuse (or to the garbage collector when the pool is full).</summary>
    /// <param name="chunk">A chunk from <see cref="Rent"/>; the caller must not use it afterwards.</param>
    /// <exception cref="ArgumentException"><paramref name="chunk"/> is not <see cref="ChunkSize"/> bytes long.</exception>
    public void Return(byte[] chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Length != ChunkSize)
        {
            throw new ArgumentException($"The chunk is {chunk.Length} bytes, but this pool's chunks are {ChunkSize}: return chunks to the pool they were rented from.", nameof(chunk));
        }

        if (_count == MaxRetained)
        {
            return;
        }

        if (_count == _free.Length)
        {
            Array.Resize(ref _free, Math.Min(MaxRetained, _free.Length * 2));
        }

        _free[_count++] = chunk;
    }
}
