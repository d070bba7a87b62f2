using MiniRedis.Commands;
using MiniRedis.Protocol;

namespace MiniRedis.Server;

/// <summary>
/// One connection's protocol state, without the socket: the bytes read and not yet consumed, the parser inside
/// an unfinished command, and the client's name. The loop reads into <see cref="GetReadSpace"/>, reports it with
/// <see cref="Commit"/>, and runs <see cref="Process"/>, which parses and executes every whole command and encodes
/// the replies. The read buffer starts small, grows only as far as the command in it needs, never past
/// <see cref="RespLimits.MaxQueryBufferLength"/>, and shrinks back when a large command is done.
/// </summary>
/// <example>
/// <code>
/// var session = new ClientSession(RespLimits.Default, new ClientState(id: 1));
/// Span&lt;byte&gt; room = session.GetReadSpace();
/// if (stream.TryRead(room, out int n) &amp;&amp; n &gt; 0)
/// {
///     session.Commit(n);
///     SessionStatus status = session.Process(executor, writer, outputBudget: 64 * 1024);
/// }
/// </code>
/// </example>
public sealed class ClientSession
{
    /// <summary>The read buffer's size while commands are small; what it shrinks back to.</summary>
    public const int InitialBufferSize = 16 * 1024;

    /// <summary>Fewest free bytes to offer a read before compacting or growing.</summary>
    private const int MinimumReadSpace = 4 * 1024;

    private readonly RespLimits _limits;
    private readonly RespParser _parser;
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>Creates the state of a new connection.</summary>
    public ClientSession(RespLimits limits, ClientState client)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(client);
        _limits = limits;
        _parser = new RespParser(limits);
        Client = client;
        _buffer = new byte[Math.Min(InitialBufferSize, Math.Max(limits.MaxQueryBufferLength, 1))];
    }

    /// <summary>What the commands know about this client.</summary>
    public ClientState Client { get; }

    /// <summary>Bytes read and not yet consumed (an unfinished command, or commands waiting for output room).</summary>
    public int Buffered => _end - _start;

    /// <summary>The read buffer's current size (never more than the query buffer limit).</summary>
    public int BufferCapacity => _buffer.Length;

    /// <summary>
    /// Room to read into: after the unconsumed bytes, at least what the unfinished command needs when the parser
    /// knows it. Empty when the client's unfinished command would pass the query buffer limit: close it then
    /// (redis closes such a client without a reply).
    /// </summary>
    public Span<byte> GetReadSpace()
    {
        int buffered = _end - _start;
        long needed = Math.Max(_parser.NeededLength, buffered + 1);
        if (needed > _limits.MaxQueryBufferLength)
        {
            return [];
        }

        if (_buffer.Length - _end >= MinimumReadSpace && _buffer.Length - _start >= needed)
        {
            return _buffer.AsSpan(_end);
        }

        // Too little room at the end: move the unconsumed bytes to the front, and grow if that is not enough.
        long wanted = Math.Max(needed, buffered + MinimumReadSpace);
        if (wanted > _buffer.Length)
        {
            long grown = Math.Max(wanted, Math.Min((long)_buffer.Length * 2, _limits.MaxQueryBufferLength));
            var bigger = new byte[Math.Min(grown, _limits.MaxQueryBufferLength)];
            _buffer.AsSpan(_start, buffered).CopyTo(bigger);
            _buffer = bigger;
        }
        else
        {
            _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
        }

        _start = 0;
        _end = buffered;
        return _buffer.AsSpan(_end);
    }

    /// <summary>Accepts <paramref name="count"/> bytes read into the span of <see cref="GetReadSpace"/>.</summary>
    public void Commit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>
    /// Parses and executes the whole commands read so far, appending their replies to <paramref name="writer"/>,
    /// until none is left (<see cref="SessionStatus.NeedInput"/>), the writer holds
    /// <paramref name="outputBudget"/> bytes or more (<see cref="SessionStatus.OutputFull"/>), or the client must
    /// be closed after its reply (<see cref="SessionStatus.Close"/>: QUIT, or a protocol error answered with
    /// <c>-ERR Protocol error: ...</c>), or at once (<see cref="SessionStatus.Abort"/>: the command announced
    /// will not fit the query buffer limit).
    /// </summary>
    public SessionStatus Process(CommandExecutor executor, RespWriter writer, int outputBudget)
    {
        while (writer.Length < outputBudget)
        {
            switch (_parser.TryParse(_buffer, _start, _end, out int consumed))
            {
                case ParseStatus.Command:
                    _start += consumed;
                    if (executor.Execute(_parser.Command, Client, writer) == AfterReply.Close)
                    {
                        return SessionStatus.Close;
                    }

                    break;
                case ParseStatus.Incomplete:
                    _start += consumed;
                    if (_start == _end)
                    {
                        _start = _end = 0;
                        if (_buffer.Length > InitialBufferSize)
                        {
                            _buffer = new byte[InitialBufferSize];   // a large command is done: give its memory back
                        }
                    }

                    return _parser.NeededLength > _limits.MaxQueryBufferLength ? SessionStatus.Abort : SessionStatus.NeedInput;
                default:
                    writer.Error("ERR " + _parser.ErrorMessage);
                    _start = _end;
                    return SessionStatus.Close;
            }
        }

        return SessionStatus.OutputFull;
    }
}
