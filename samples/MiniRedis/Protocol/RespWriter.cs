using System.Buffers.Text;

namespace MiniRedis.Protocol;

/// <summary>
/// Turns typed replies into RESP2 bytes, appended to one growable buffer: simple strings (<c>+OK</c>), errors
/// (<c>-ERR ...</c>), integers (<c>:42</c>), bulk strings (<c>$2\r\nv1</c>), nulls and array headers. The loop
/// writes a whole batch of replies (a pipelined read's) to the socket in one call and then
/// <see cref="Clear"/>s it. Allocates nothing once the buffer has grown to the largest batch.
/// </summary>
/// <example>
/// <code>
/// var writer = new RespWriter();
/// writer.ArrayHeader(2);
/// writer.Bulk("v1"u8);
/// writer.NullBulk();
/// // writer.Written is "*2\r\n$2\r\nv1\r\n$-1\r\n"
/// </code>
/// </example>
public sealed class RespWriter
{
    private const int InitialCapacity = 16 * 1024;

    private byte[] _buffer;
    private int _length;

    /// <summary>Creates an empty writer.</summary>
    public RespWriter(int initialCapacity = InitialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 64);
        _buffer = new byte[initialCapacity];
    }

    /// <summary>The encoded replies so far.</summary>
    public ReadOnlySpan<byte> Written => new(_buffer, 0, _length);

    /// <summary>Bytes in <see cref="Written"/>.</summary>
    public int Length => _length;

    /// <summary>Bytes the buffer holds before it must grow.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>
    /// Empties the writer; if a huge reply made the buffer grow past <paramref name="keepCapacity"/>, it is
    /// replaced by a buffer of that size so an idle server does not hold it.
    /// </summary>
    public void Clear(int keepCapacity = 1024 * 1024)
    {
        _length = 0;
        if (_buffer.Length > keepCapacity)
        {
            _buffer = new byte[keepCapacity];
        }
    }

    /// <summary><c>+text</c>; <paramref name="text"/> must not contain CR or LF.</summary>
    public void SimpleString(ReadOnlySpan<byte> text)
    {
        Span<byte> span = Reserve(text.Length + 3);
        span[0] = (byte)'+';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        _length += text.Length + 3;
    }

    /// <summary><c>+OK</c>.</summary>
    public void Ok() => Raw("+OK\r\n"u8);

    /// <summary>
    /// <c>-message</c>: an error reply. <paramref name="message"/> starts with its code (<c>ERR ...</c>,
    /// <c>WRONGTYPE ...</c>); as redis does, CR and LF in it become spaces so it cannot break the stream.
    /// </summary>
    public void Error(ReadOnlySpan<byte> message)
    {
        BeginError();
        ErrorText(message);
        EndError();
    }

    /// <summary><c>-message</c> from a string (ASCII; other characters become <c>?</c>).</summary>
    public void Error(string message)
    {
        BeginError();
        Span<byte> span = Reserve(message.Length);
        for (int i = 0; i < message.Length; i++)
        {
            char c = message[i];
            span[i] = c is '\r' or '\n' ? (byte)' ' : c < 0x100 ? (byte)c : (byte)'?';
        }

        _length += message.Length;
        EndError();
    }

    /// <summary>Starts an error reply assembled from pieces with <see cref="ErrorText"/>; end it with <see cref="EndError"/>.</summary>
    public void BeginError() => Raw("-"u8);

    /// <summary>Appends to an error begun with <see cref="BeginError"/>; CR and LF become spaces.</summary>
    public void ErrorText(ReadOnlySpan<byte> text)
    {
        Span<byte> span = Reserve(text.Length)[..text.Length];
        text.CopyTo(span);
        span.Replace((byte)'\r', (byte)' ');
        span.Replace((byte)'\n', (byte)' ');
        _length += text.Length;
    }

    /// <summary>Ends an error reply.</summary>
    public void EndError() => Raw("\r\n"u8);

    /// <summary><c>:value</c>.</summary>
    public void Integer(long value)
    {
        switch (value)
        {
            case 0:
                Raw(":0\r\n"u8);
                return;
            case 1:
                Raw(":1\r\n"u8);
                return;
        }

        Span<byte> span = Reserve(RedisNumber.MaxLength + 3);
        span[0] = (byte)':';
        Utf8Formatter.TryFormat(value, span[1..], out int digits);
        span[digits + 1] = (byte)'\r';
        span[digits + 2] = (byte)'\n';
        _length += digits + 3;
    }

    /// <summary><c>$len\r\nvalue\r\n</c>: a bulk string, binary-safe.</summary>
    public void Bulk(ReadOnlySpan<byte> value)
    {
        Span<byte> span = Reserve(value.Length + RedisNumber.MaxLength + 5);
        span[0] = (byte)'$';
        int at = 1 + WriteDigits(value.Length, span[1..]);
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        _length += at;
    }

    /// <summary>A bulk string holding the decimal digits of <paramref name="value"/>.</summary>
    public void BulkInteger(long value)
    {
        Span<byte> digits = stackalloc byte[RedisNumber.MaxLength];
        Utf8Formatter.TryFormat(value, digits, out int count);
        Bulk(digits[..count]);
    }

    /// <summary><c>$-1</c>: the null bulk string (a missing key).</summary>
    public void NullBulk() => Raw("$-1\r\n"u8);

    /// <summary><c>*count</c>: an array of <paramref name="count"/> replies that follow.</summary>
    public void ArrayHeader(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            Raw("*0\r\n"u8);
            return;
        }

        Span<byte> span = Reserve(RedisNumber.MaxLength + 3);
        span[0] = (byte)'*';
        int at = 1 + WriteDigits(count, span[1..]);
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        _length += at;
    }

    /// <summary><c>*-1</c>: the null array.</summary>
    public void NullArray() => Raw("*-1\r\n"u8);

    /// <summary>Appends bytes that are already RESP (a precomputed reply).</summary>
    public void Raw(ReadOnlySpan<byte> resp)
    {
        resp.CopyTo(Reserve(resp.Length));
        _length += resp.Length;
    }

    private static int WriteDigits(int value, Span<byte> destination)
    {
        if (value < 10)
        {
            destination[0] = (byte)('0' + value);
            return 1;
        }

        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            Grow(count);
        }

        return _buffer.AsSpan(_length);
    }

    private void Grow(int count)
    {
        long wanted = Math.Max((long)_length + count, (long)_buffer.Length * 2);
        var grown = new byte[(int)Math.Min(wanted, Array.MaxLength)];
        _buffer.AsSpan(0, _length).CopyTo(grown);
        _buffer = grown;
    }
}
