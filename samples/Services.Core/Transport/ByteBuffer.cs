using System.Buffers;

namespace Polling.Services;

/// <summary>
/// A growable byte queue: codecs append at the end (<see cref="IBufferWriter{T}"/>), the connection consumes from
/// the front as the kernel takes or the parser eats bytes. Grows by doubling and is then reused: no allocation in
/// steady state.
/// </summary>
internal sealed class ByteBuffer(int initialCapacity) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[initialCapacity];
    private int _start;
    private int _end;

    public int Length => _end - _start;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(_start, _end - _start);

    public void Advance(int count) => _end += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_end);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_end);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _end += data.Length;
    }

    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    public void Clear() => _start = _end = 0;

    private void Reserve(int sizeHint)
    {
        int wanted = Math.Max(sizeHint, 256);
        if (_buffer.Length - _end >= wanted)
        {
            return;
        }

        int length = _end - _start;
        if (_buffer.Length - length >= wanted && _start > 0)
        {
            _buffer.AsSpan(_start, length).CopyTo(_buffer);
        }
        else
        {
            var grown = new byte[Math.Max(_buffer.Length * 2, length + wanted)];
            _buffer.AsSpan(_start, length).CopyTo(grown);
            _buffer = grown;
        }

        _start = 0;
        _end = length;
    }
}
