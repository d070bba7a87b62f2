using System.Buffers;
using System.Runtime.CompilerServices;

namespace Polling.Net;

/// <summary>
/// One connection's pending output: the bytes the kernel has not taken yet, in pooled chunks, with a high-water
/// mark that tells the server to stop reading from a client that does not read, and the bookkeeping that turns
/// <see cref="Interest.Writable"/> on while output waits and off once it is written.
/// </summary>
/// <remarks>
/// <para><b>Writing.</b> Put replies in with <see cref="Enqueue"/> or, to encode in place, with
/// <see cref="GetSpan"/>/<see cref="Advance"/> (the queue is an <see cref="IBufferWriter{T}"/>); then
/// <see cref="Flush(TcpStream)"/> writes as much as the kernel takes, with one <c>sendmsg</c> over several chunks
/// when more than one waits, until it is empty or the kernel would block. Batch the replies of one read (e.g. a
/// pipeline) and flush once. <see cref="Write(TcpStream, ReadOnlySpan{byte})"/> is the shortcut for one reply:
/// written at once when nothing waits, queued otherwise. Flushing throws what the stream throws
/// (<see cref="System.Net.Sockets.SocketException"/> when the peer reset): close the connection then.</para>
/// <para><b>Backpressure.</b> <see cref="IsAboveHighWaterMark"/> is <see langword="true"/> while
/// <see cref="Length"/> ≥ <see cref="HighWaterMark"/>: stop reading from that client until it is false again.
/// The mark is soft — <see cref="Enqueue"/> never refuses — so a single large reply still goes out whole.</para>
/// <para><b>Interest.</b> After handling an event call <see cref="UpdateInterest"/>: it reregisters the stream only
/// when what it needs changed — <see cref="Interest.Writable"/> while output waits, <see cref="Interest.Readable"/>
/// unless the queue is above its high-water mark (or you say reading is over) — and tells you which happened
/// (<see cref="InterestUpdate.Unchanged"/>, <see cref="InterestUpdate.Reregistered"/>), or that the connection
/// needs neither direction any more and is to be closed (<see cref="InterestUpdate.Close"/>). Re-adding Readable
/// re-evaluates readiness, so data that arrived while reading was paused is reported then, with edge or level
/// triggering. The queue assumes the stream was registered with <see cref="Interest.Readable"/> alone.</para>
/// <para><b>Memory.</b> Chunks come from a <see cref="BufferPool"/> (by default the loop thread's) and go back to
/// it as they are written, so an idle connection holds no buffer. <see cref="Clear"/> drops what waits (on close)
/// and readies the queue for the next connection. Allocation-free once the pool is warm. Not thread-safe.</para>
/// </remarks>
/// <example>
/// <code>
/// var output = new OutputQueue(highWaterMark: 256 * 1024);             // one per connection
/// bool peerDone = false;
/// // on an event for the connection (token), with edge triggering:
/// try
/// {
///     if (ev.IsWritable) output.Flush(stream);
///     while (!output.IsAboveHighWaterMark &amp;&amp; stream.TryRead(buffer, out int n))
///     {
///         if (n == 0) { peerDone = true; break; }
///         output.Enqueue(buffer.AsSpan(0, n));                          // echo: the reply is the request
///     }
///     output.Flush(stream);
///     if (output.UpdateInterest(poll.Registry, stream, token, reading: !peerDone) == InterestUpdate.Close)
///     {
///         stream.Dispose();                                           // all written, nothing more to read
///     }
/// }
/// catch (SocketException) { stream.Dispose(); }                       // reset by the peer: close, live on
/// </code>
/// </example>
public sealed class OutputQueue : IBufferWriter<byte>
{
    /// <summary>The default high-water mark: 64 KiB.</summary>
    public const int DefaultHighWaterMark = 64 * 1024;

    /// <summary>Chunks written by one <c>sendmsg</c>.</summary>
    private const int MaxSegments = 16;

    private readonly BufferPool _pool;
    private byte[][] _chunks = new byte[4][];
    private int[] _ends = new int[4];
    private ArraySegment<byte>[]? _segments;
    private int _first;
    private int _chunkCount;
    private int _headOffset;
    private int _length;
    private Interest _registered = Interest.Readable;

    /// <summary>Creates an empty queue.</summary>
    /// <param name="highWaterMark">The backlog, in bytes, at which reading should pause; at least 1.</param>
    /// <param name="pool">Where chunks come from; <see langword="null"/> for <see cref="BufferPool.ForCurrentThread"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="highWaterMark"/> is less than 1.</exception>
    public OutputQueue(int highWaterMark = DefaultHighWaterMark, BufferPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highWaterMark, 1);
        HighWaterMark = highWaterMark;
        _pool = pool ?? BufferPool.ForCurrentThread;
    }

    /// <summary>The backlog, in bytes, at which <see cref="IsAboveHighWaterMark"/> turns true.</summary>
    public int HighWaterMark { get; }

    /// <summary>Bytes waiting to be written.</summary>
    public int Length => _length;

    /// <summary><see langword="true"/> when nothing waits.</summary>
    public bool IsEmpty
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _length == 0;
    }

    /// <summary><see langword="true"/> while <see cref="Length"/> ≥ <see cref="HighWaterMark"/>: stop reading from this client.</summary>
    public bool IsAboveHighWaterMark
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _length >= HighWaterMark;
    }

    /// <summary>The interest the queue last registered (or assumes: <see cref="Interest.Readable"/> after construction and <see cref="Clear"/>).</summary>
    public Interest RegisteredInterest => _registered;

    /// <summary>Copies <paramref name="data"/> to the end of the queue (it is not written yet: call a <c>Flush</c>).</summary>
    /// <param name="data">The bytes to send after those already queued.</param>
    public void Enqueue(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> room = TailRoom(1);
            int count = Math.Min(room.Length, data.Length);
            data[..count].CopyTo(room);
            Advance(count);
            data = data[count..];
        }
    }

    /// <summary>
    /// Room to encode into at the end of the queue, at least <paramref name="sizeHint"/> bytes (at least one when
    /// 0); commit what you wrote with <see cref="Advance"/>. Valid until the next call on the queue.
    /// </summary>
    /// <param name="sizeHint">The bytes needed, 0 to <see cref="BufferPool.ChunkSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeHint"/> is negative or larger than a chunk.</exception>
    public Span<byte> GetSpan(int sizeHint = 0) => TailRoom(CheckHint(sizeHint));

    /// <summary>As <see cref="GetSpan"/>, as <see cref="Memory{T}"/>.</summary>
    /// <param name="sizeHint">The bytes needed, 0 to <see cref="BufferPool.ChunkSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeHint"/> is negative or larger than a chunk.</exception>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int room = TailRoom(CheckHint(sizeHint)).Length;
        int last = Index(_chunkCount - 1);
        return _chunks[last].AsMemory(_ends[last], room);
    }

    /// <summary>Commits <paramref name="count"/> bytes written into the span of <see cref="GetSpan"/>.</summary>
    /// <param name="count">Bytes written, 0 to the length of that span.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or beyond the span.</exception>
    public void Advance(int count)
    {
        if (count == 0)
        {
            return;
        }

        int last = _chunkCount == 0 ? -1 : Index(_chunkCount - 1);
        if (count < 0 || last < 0 || _ends[last] + count > _chunks[last].Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                "Advance past the room GetSpan returned: commit at most the bytes you wrote into the span of the last GetSpan call.");
        }

        _ends[last] += count;
        _length += count;
    }

    /// <summary>Writes what waits until the queue is empty or the kernel would block.</summary>
    /// <param name="stream">The connection.</param>
    /// <returns><see langword="true"/> when the queue is empty afterwards.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The connection failed (e.g. reset by the peer): close it.</exception>
    /// <exception cref="ObjectDisposedException">The stream is disposed.</exception>
    public bool Flush(TcpStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return FlushTo(new TcpWriter(stream));
    }

    /// <summary>As <see cref="Flush(TcpStream)"/>, for a Unix stream.</summary>
    /// <param name="stream">The connection.</param>
    /// <returns><see langword="true"/> when the queue is empty afterwards.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The connection failed: close it.</exception>
    public bool Flush(UnixStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return FlushTo(new UnixWriter(stream));
    }

    /// <summary>
    /// Sends <paramref name="data"/> after what waits: straight to the kernel when the queue is empty (no copy),
    /// and whatever the kernel does not take is queued.
    /// </summary>
    /// <param name="stream">The connection.</param>
    /// <param name="data">The bytes to send.</param>
    /// <exception cref="System.Net.Sockets.SocketException">The connection failed: close it.</exception>
    public void Write(TcpStream stream, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteTo(new TcpWriter(stream), data);
    }

    /// <summary>As <see cref="Write(TcpStream, ReadOnlySpan{byte})"/>, for a Unix stream.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="data">The bytes to send.</param>
    /// <exception cref="System.Net.Sockets.SocketException">The connection failed: close it.</exception>
    public void Write(UnixStream stream, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteTo(new UnixWriter(stream), data);
    }

    /// <summary>
    /// Reregisters <paramref name="source"/> if the interest it needs changed since the last call:
    /// <see cref="Interest.Writable"/> while output waits; <see cref="Interest.Readable"/> while
    /// <paramref name="reading"/> and not above the high-water mark.
    /// </summary>
    /// <param name="registry">The registry the stream is registered with.</param>
    /// <param name="source">The connection's stream.</param>
    /// <param name="token">Its token.</param>
    /// <param name="trigger">The trigger it was registered with (<see cref="Trigger.Edge"/> by default).</param>
    /// <param name="reading">Whether more requests are wanted from it (<see langword="false"/> after end of stream or once shutting down).</param>
    /// <returns>
    /// <see cref="InterestUpdate.Reregistered"/> if it reregistered; <see cref="InterestUpdate.Unchanged"/> if the
    /// registration already fitted (no system call); <see cref="InterestUpdate.Close"/> if the connection needs
    /// neither direction (nothing to write and not <paramref name="reading"/>): nothing was changed, close it.
    /// </returns>
    /// <example>
    /// <code>
    /// switch (output.UpdateInterest(poll.Registry, stream, token, reading: !peerDone))
    /// {
    ///     case InterestUpdate.Close:
    ///         stream.Dispose();           // the reply is out and the client said goodbye
    ///         break;
    ///     case InterestUpdate.Unchanged:  // the usual case: no system call
    ///     case InterestUpdate.Reregistered:
    ///         break;
    /// }
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> or <paramref name="source"/> is <see langword="null"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // called once per event: the unchanged case stays in the caller
    public InterestUpdate UpdateInterest(Registry registry, ISource source, Token token, Trigger trigger = Trigger.Edge, bool reading = true)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(source);
        Interest wanted = (reading && !IsAboveHighWaterMark ? Interest.Readable : 0) | (_length > 0 ? Interest.Writable : 0);
        if (wanted == 0)
        {
            return InterestUpdate.Close;
        }

        return wanted == _registered ? InterestUpdate.Unchanged : Reregister(registry, source, token, wanted, trigger);
    }

    private InterestUpdate Reregister(Registry registry, ISource source, Token token, Interest wanted, Trigger trigger)
    {
        registry.Reregister(source, token, wanted, trigger);
        _registered = wanted;
        return InterestUpdate.Reregistered;
    }

    /// <summary>Drops everything that waits (chunks go back to the pool) and assumes a fresh Readable registration: for a closed connection, or to reuse the queue for the next one.</summary>
    public void Clear()
    {
        while (_chunkCount > 0)
        {
            ReleaseFirst();
        }

        _headOffset = 0;
        _length = 0;
        _registered = Interest.Readable;
    }

    /// <summary>Returns e.g. <c>OutputQueue(1200 bytes, high-water mark 65536)</c>.</summary>
    public override string ToString() => $"OutputQueue({_length} bytes, high-water mark {HighWaterMark})";

    private int CheckHint(int sizeHint)
    {
        if (sizeHint < 0 || sizeHint > _pool.ChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeHint), sizeHint,
                $"An OutputQueue hands out at most one chunk ({_pool.ChunkSize} bytes) at a time; ask for less and call GetSpan again, or Enqueue a larger block.");
        }

        return Math.Max(sizeHint, 1);
    }

    private int Index(int position) => (_first + position) & (_chunks.Length - 1);

    /// <summary>Free room at the end of the last chunk, at least <paramref name="size"/> bytes (a new chunk if needed).</summary>
    private Span<byte> TailRoom(int size)
    {
        if (_chunkCount > 0)
        {
            int last = Index(_chunkCount - 1);
            int end = _ends[last];
            byte[] chunk = _chunks[last];
            if (chunk.Length - end >= size)
            {
                return chunk.AsSpan(end);
            }
        }

        if (_chunkCount == _chunks.Length)
        {
            GrowRing();
        }

        int index = Index(_chunkCount++);
        _chunks[index] = _pool.Rent();
        _ends[index] = 0;
        return _chunks[index];
    }

    private void GrowRing()
    {
        var chunks = new byte[_chunks.Length * 2][];
        var ends = new int[chunks.Length];
        for (int i = 0; i < _chunkCount; i++)
        {
            chunks[i] = _chunks[Index(i)];
            ends[i] = _ends[Index(i)];
        }

        _chunks = chunks;
        _ends = ends;
        _first = 0;
    }

    private void ReleaseFirst()
    {
        _pool.Return(_chunks[_first]);
        _chunks[_first] = null!;
        _first = (_first + 1) & (_chunks.Length - 1);
        _chunkCount--;
        _headOffset = 0;
    }

    private void Consume(int count)
    {
        _length -= count;
        while (count > 0)
        {
            int available = _ends[_first] - _headOffset;
            if (count < available)
            {
                _headOffset += count;
                return;
            }

            count -= available;
            ReleaseFirst();
        }

        if (_length == 0)
        {
            while (_chunkCount > 0)
            {
                ReleaseFirst(); // an empty tail chunk left by GetSpan without Advance
            }
        }
    }

    private bool FlushTo<TWriter>(TWriter writer)
        where TWriter : struct, IStreamWriter
    {
        while (_length > 0)
        {
            bool wrote;
            int written;
            if (_chunkCount == 1 || _ends[Index(1)] == 0)
            {
                wrote = writer.TryWrite(_chunks[_first].AsSpan(_headOffset, _ends[_first] - _headOffset), out written);
            }
            else
            {
                ArraySegment<byte>[] segments = _segments ??= new ArraySegment<byte>[MaxSegments];
                int count = Math.Min(_chunkCount, MaxSegments);
                segments[0] = new ArraySegment<byte>(_chunks[_first], _headOffset, _ends[_first] - _headOffset);
                for (int i = 1; i < count; i++)
                {
                    int index = Index(i);
                    segments[i] = new ArraySegment<byte>(_chunks[index], 0, _ends[index]);
                }

                wrote = writer.TryWrite(segments.AsSpan(0, count), out written);
                segments.AsSpan(0, count).Clear();
            }

            if (!wrote)
            {
                return false; // the kernel's buffer is full: Writable will tell when to go on
            }

            Consume(written);
        }

        return true;
    }

    private void WriteTo<TWriter>(TWriter writer, ReadOnlySpan<byte> data)
        where TWriter : struct, IStreamWriter
    {
        if (_length == 0)
        {
            while (!data.IsEmpty && writer.TryWrite(data, out int written))
            {
                data = data[written..];
            }

            if (data.IsEmpty)
            {
                return; // the usual case: the kernel took it all, nothing to queue
            }
        }

        Enqueue(data);
    }

    /// <summary>The two writes a flush needs, over either stream type, without boxing.</summary>
    private interface IStreamWriter
    {
        bool TryWrite(ReadOnlySpan<byte> buffer, out int written);

        bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int written);
    }

    private readonly struct TcpWriter(TcpStream stream) : IStreamWriter
    {
        public bool TryWrite(ReadOnlySpan<byte> buffer, out int written) => stream.TryWrite(buffer, out written);

        public bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int written) => stream.TryWrite(buffers, out written);
    }

    private readonly struct UnixWriter(UnixStream stream) : IStreamWriter
    {
        public bool TryWrite(ReadOnlySpan<byte> buffer, out int written) => stream.TryWrite(buffer, out written);

        public bool TryWrite(ReadOnlySpan<ArraySegment<byte>> buffers, out int written) => stream.TryWrite(buffers, out written);
    }
}
