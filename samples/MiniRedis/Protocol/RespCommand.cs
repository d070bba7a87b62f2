namespace MiniRedis.Protocol;

/// <summary>
/// One parsed command: which command it is (<see cref="Kind"/>, <see cref="Spec"/>) and its arguments as views
/// over the connection's read buffer, so parsing copies no bytes. Valid until the next parse on the same
/// <see cref="RespParser"/> or until the buffer is reused; the parser reuses one instance.
/// </summary>
/// <example>
/// <code>
/// if (parser.TryParse(buffer, start, end, out int used) == ParseStatus.Command)
/// {
///     RespCommand command = parser.Command;
///     ReadOnlySpan&lt;byte&gt; key = command[1];      // command[0] is the name
/// }
/// </code>
/// </example>
public sealed class RespCommand
{
    private byte[] _buffer = [];
    private int _base;
    private int[] _offsets = new int[8];
    private int[] _lengths = new int[8];

    /// <summary>The command, or <see cref="CommandKind.Unknown"/>.</summary>
    public CommandKind Kind => Spec?.Kind ?? CommandKind.Unknown;

    /// <summary>The command's description, or <see langword="null"/> for an unknown name.</summary>
    public CommandSpec? Spec { get; private set; }

    /// <summary>Number of arguments, the name included (redis's <c>argc</c>); at least 1.</summary>
    public int Count { get; private set; }

    /// <summary>Argument <paramref name="index"/>; 0 is the command name as the client spelled it.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return new ReadOnlySpan<byte>(_buffer, _base + _offsets[index], _lengths[index]);
        }
    }

    /// <summary>Forgets the arguments collected so far (a new command starts).</summary>
    internal void Reset() => Count = 0;

    /// <summary>Adds an argument at <paramref name="offset"/> (from the command's first byte), growing by doubling.</summary>
    internal void Add(int offset, int length)
    {
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }

        _offsets[Count] = offset;
        _lengths[Count] = length;
        Count++;
    }

    /// <summary>Points the collected arguments at the command in <paramref name="buffer"/> from <paramref name="start"/>.</summary>
    internal void Bind(byte[] buffer, int start)
    {
        _buffer = buffer;
        _base = start;
        Spec = CommandTable.Find(new ReadOnlySpan<byte>(buffer, start + _offsets[0], _lengths[0]));
    }

    /// <summary>Arguments the parser has room for without growing (for tests of bounded memory).</summary>
    internal int Capacity => _offsets.Length;
}
