namespace MiniRedis.Protocol;

/// <summary>
/// Turns the bytes a client sent into <see cref="RespCommand"/>s: RESP2 multibulk (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>)
/// and inline commands (<c>GET k\r\n</c>, with redis's quoting), any number per read and split anywhere. One
/// parser per connection; it keeps its place inside an unfinished command, so bytes arriving one at a time cost
/// no rescanning of what is done. Accepts, rejects and words its errors as redis 7 does
/// (<c>Protocol error: invalid bulk length</c>, ...); every limit in <see cref="RespLimits"/> holds. Allocates
/// nothing once the argument arrays have grown to the widest command seen.
/// </summary>
/// <remarks>
/// The caller owns the buffer: it passes the unconsumed bytes as <c>[start, end)</c>, adds
/// <c>consumed</c> to <c>start</c> after every call (also after <see cref="ParseStatus.Incomplete"/>, which can
/// consume empty commands), and keeps the bytes from <c>start</c> on in place or moves them together (offsets
/// are relative to <c>start</c>). <see cref="NeededLength"/> says how large the unfinished command will be when
/// the parser knows it. Inline commands are unescaped in place, inside the bytes they consumed.
/// </remarks>
/// <example>
/// <code>
/// var parser = new RespParser(RespLimits.Default);
/// byte[] input = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
/// ParseStatus status = parser.TryParse(input, 0, input.Length, out int consumed);
/// // status == ParseStatus.Command, parser.Command.Kind == CommandKind.Ping, consumed == input.Length
/// </code>
/// </example>
public sealed class RespParser
{
    private readonly RespLimits _limits;
    private readonly RespCommand _command = new();

    // State inside an unfinished multibulk command, relative to the command's first byte.
    private long _remainingArguments;   // 0: not inside a multibulk command
    private int _position;
    private long _bulkLength = -1;       // -1: the next "$len" header has not been read

    /// <summary>Creates a parser that enforces <paramref name="limits"/>.</summary>
    public RespParser(RespLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>The command of the last <see cref="ParseStatus.Command"/> result.</summary>
    public RespCommand Command => _command;

    /// <summary>After <see cref="ParseStatus.Error"/>: the error reply's text without <c>-</c>, as redis words it.</summary>
    public string ErrorMessage { get; private set; } = "";

    /// <summary>
    /// After <see cref="ParseStatus.Incomplete"/>: how many bytes from <c>start</c> the unfinished command needs at
    /// least (0 when not known yet), so the caller can make room for a large bulk argument in one step.
    /// </summary>
    public long NeededLength { get; private set; }

    /// <summary>Reads at most one command from <paramref name="buffer"/>[<paramref name="start"/>..<paramref name="end"/>).</summary>
    /// <param name="buffer">The connection's read buffer.</param>
    /// <param name="start">First unconsumed byte: where the current command begins.</param>
    /// <param name="end">One past the last byte read.</param>
    /// <param name="consumed">Bytes used: the command's, plus any empty commands before it; add to <paramref name="start"/>.</param>
    public ParseStatus TryParse(byte[] buffer, int start, int end, out int consumed)
    {
        consumed = 0;
        NeededLength = 0;
        while (start < end)
        {
            ParseStatus status;
            int used;
            if (_remainingArguments > 0 || buffer[start] == (byte)'*')
            {
                status = ParseMultibulk(buffer, start, end, out used);
            }
            else
            {
                status = ParseInline(buffer, start, end, out used);
            }

            consumed += used;
            start += used;
            if (status != ParseStatus.Incomplete || used == 0)
            {
                return status;
            }

            // An empty command (*0, *-1 or a blank line) was skipped: look at what follows.
        }

        return ParseStatus.Incomplete;
    }

    private ParseStatus ParseMultibulk(byte[] buffer, int start, int end, out int consumed)
    {
        consumed = 0;
        ReadOnlySpan<byte> data = new(buffer, start, end - start);
        if (_remainingArguments == 0)
        {
            int cr = data.IndexOf((byte)'\r');
            if (cr < 0)
            {
                return data.Length > _limits.MaxInlineLength ? Fail("Protocol error: too big mbulk count string") : ParseStatus.Incomplete;
            }

            if (cr + 1 >= data.Length)
            {
                return ParseStatus.Incomplete;   // the '\n' has not arrived
            }

            if (!RedisNumber.TryParse(data[1..cr], out long count) || count > _limits.MaxMultibulkLength)
            {
                return Fail("Protocol error: invalid multibulk length");
            }

            if (count <= 0)
            {
                consumed = cr + 2;
                return ParseStatus.Incomplete;   // an empty command: nothing to run
            }

            _remainingArguments = count;
            _position = cr + 2;
            _bulkLength = -1;
            _command.Reset();
        }

        while (_remainingArguments > 0)
        {
            if (_bulkLength < 0)
            {
                ReadOnlySpan<byte> header = data[_position..];
                int cr = header.IndexOf((byte)'\r');
                if (cr < 0)
                {
                    return header.Length > _limits.MaxInlineLength ? Fail("Protocol error: too big bulk count string") : ParseStatus.Incomplete;
                }

                if (cr + 1 >= header.Length)
                {
                    return ParseStatus.Incomplete;
                }

                if (header[0] != (byte)'$')
                {
                    return Fail($"Protocol error: expected '$', got '{(char)header[0]}'");
                }

                if (!RedisNumber.TryParse(header[1..cr], out long length) || length < 0 || length > _limits.MaxBulkLength)
                {
                    return Fail("Protocol error: invalid bulk length");
                }

                _position += cr + 2;
                _bulkLength = length;
            }

            // As redis: the two bytes after the bulk are taken as its CRLF without looking at them.
            long needed = _position + _bulkLength + 2;
            if (data.Length < needed)
            {
                NeededLength = needed;
                return ParseStatus.Incomplete;
            }

            _command.Add(_position, (int)_bulkLength);
            _position = (int)needed;
            _bulkLength = -1;
            _remainingArguments--;
        }

        consumed = _position;
        _position = 0;
        _command.Bind(buffer, start);
        return ParseStatus.Command;
    }

    private ParseStatus ParseInline(byte[] buffer, int start, int end, out int consumed)
    {
        consumed = 0;
        Span<byte> data = new(buffer, start, end - start);
        int newline = data.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return data.Length > _limits.MaxInlineLength ? Fail("Protocol error: too big inline request") : ParseStatus.Incomplete;
        }

        int lineLength = newline > 0 && data[newline - 1] == (byte)'\r' ? newline - 1 : newline;
        consumed = newline + 1;
        _command.Reset();
        if (!SplitInline(data[..lineLength]))
        {
            consumed = 0;
            return Fail("Protocol error: unbalanced quotes in request");
        }

        if (_command.Count == 0)
        {
            return ParseStatus.Incomplete;   // a blank line: skipped, as redis does
        }

        _command.Bind(buffer, start);
        return ParseStatus.Command;
    }

    /// <summary>
    /// redis's <c>sdssplitargs</c>, unescaping into the line itself (the output never outruns the input):
    /// blanks separate arguments, "double quotes" take \n \r \t \b \a \xHH and \c escapes, 'single quotes' take
    /// \', a closing quote must be followed by a blank or the end, and a NUL byte ends the line.
    /// </summary>
    private bool SplitInline(Span<byte> line)
    {
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
        {
            line = line[..nul];
        }

        int p = 0;
        int w = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p]))
            {
                p++;
            }

            if (p == line.Length)
            {
                return true;
            }

            int tokenStart = w;
            bool inDouble = false;
            bool inSingle = false;
            bool done = false;
            while (!done)
            {
                byte c = p < line.Length ? line[p] : (byte)0;
                if (inDouble)
                {
                    if (c == (byte)'\\' && p + 3 < line.Length && line[p + 1] == (byte)'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        line[w++] = (byte)((HexValue(line[p + 2]) * 16) + HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == (byte)'\\' && p + 1 < line.Length)
                    {
                        p++;
                        line[w++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            byte other => other,
                        };
                    }
                    else if (c == (byte)'"')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else if (p == line.Length)
                    {
                        return false;
                    }
                    else
                    {
                        line[w++] = c;
                    }
                }
                else if (inSingle)
                {
                    if (c == (byte)'\\' && p + 1 < line.Length && line[p + 1] == (byte)'\'')
                    {
                        p++;
                        line[w++] = (byte)'\'';
                    }
                    else if (c == (byte)'\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else if (p == line.Length)
                    {
                        return false;
                    }
                    else
                    {
                        line[w++] = c;
                    }
                }
                else if (p == line.Length || c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                {
                    done = true;
                }
                else if (c == (byte)'"')
                {
                    inDouble = true;
                }
                else if (c == (byte)'\'')
                {
                    inSingle = true;
                }
                else
                {
                    line[w++] = c;
                }

                if (p < line.Length)
                {
                    p++;
                }
            }

            _command.Add(tokenStart, w - tokenStart);
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private ParseStatus Fail(string message)
    {
        ErrorMessage = message;
        _remainingArguments = 0;
        _position = 0;
        _bulkLength = -1;
        return ParseStatus.Error;
    }
}
