using System.Buffers;
using System.Text;

namespace HttpPing;

/// <summary>
/// An incremental HTTP/1.1 request parser for one connection: pure (no sockets, no clock), allocation-free, and
/// bounded. Feed it the bytes it has not consumed yet followed by whatever arrived since; it consumes complete lines
/// (and body bytes as they come, which it discards), remembers what it needs, and returns
/// <see cref="ParseStatus.NeedMore"/>, <see cref="ParseStatus.Request"/> (one complete request: head and body) or
/// <see cref="ParseStatus.Error"/> with the status code to answer before closing.
/// </summary>
/// <remarks>
/// <para><b>Bounds.</b> Whatever the input, the bytes left unconsumed after <see cref="ParseStatus.NeedMore"/> are fewer
/// than <see cref="MaxUnconsumedBytes"/> (a partial line), so a caller's carry-over buffer of that size always suffices.
/// A request head (request line, header fields and the empty line, leading empty lines included) longer than
/// <see cref="MaxHeaderBytes"/> is refused with 431 (414 when the request line alone is too long); a body declared or
/// chunked beyond <see cref="MaxBodyBytes"/> with 413; so are chunked trailers beyond <see cref="MaxHeaderBytes"/>
/// (431).</para>
/// <para><b>Strictness</b> (RFC 9112): lines end in CRLF (a bare LF is 400); a request line is
/// <c>method SP target SP HTTP/d.d</c> with single spaces; a major version other than 1 is 505; header names are
/// tokens with no space before the colon; obsolete line folding, control characters in values, a
/// <c>Transfer-Encoding</c> whose last coding is not <c>chunked</c>, <c>Transfer-Encoding</c> together with
/// <c>Content-Length</c> or in HTTP/1.0, conflicting <c>Content-Length</c>s, and an HTTP/1.1 request without exactly one
/// <c>Host</c> are 400. Empty lines before a request line are skipped (counted against the head limit).</para>
/// </remarks>
/// <example>
/// <code>
/// var parser = new HttpRequestParser();
/// ReadOnlySpan&lt;byte&gt; input = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"u8;
/// while (true)
/// {
///     ParseStatus status = parser.Parse(input, out int consumed);
///     input = input[consumed..];
///     if (status == ParseStatus.Request) { Answer(parser.Request); continue; }
///     if (status == ParseStatus.Error) { AnswerAndClose(parser.ErrorStatus); }
///     break; // NeedMore: keep `input` (the unconsumed rest) and read more
/// }
/// </code>
/// </example>
public sealed class HttpRequestParser
{
    /// <summary>The default limit of a request head: 8 KiB.</summary>
    public const int DefaultMaxHeaderBytes = 8 * 1024;

    /// <summary>The default limit of a request body: 1 MiB (bodies are read and discarded).</summary>
    public const long DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>The longest chunk-size line (size and extensions) of a chunked body.</summary>
    public const int MaxChunkLineBytes = 1024;

    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    /// <summary>tchar (RFC 9110 5.6.2): what methods, header names and codings are made of.</summary>
    private static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>Visible ASCII: what a request target is made of.</summary>
    private static readonly SearchValues<byte> TargetChars = SearchValues.Create(Range(0x21, 0x7E));

    /// <summary>Visible ASCII and SP: what a request line is made of.</summary>
    private static readonly SearchValues<byte> RequestLineChars = SearchValues.Create(Range(0x20, 0x7E));

    /// <summary>field-value characters: visible ASCII, obs-text, SP and HTAB.</summary>
    private static readonly SearchValues<byte> FieldChars =
        SearchValues.Create([.. Range(0x20, 0x7E), .. Range(0x80, 0xFF), (byte)'\t']);

    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    private Phase _phase;
    private int _headBytes;
    private long _bodyRemaining;
    private long _bodyTotal;

    // What the head said so far.
    private HttpMethod _method;
    private bool _isPing;
    private bool _http10;
    private bool _connectionClose;
    private bool _connectionKeepAlive;
    private int _hosts;
    private long _contentLength;
    private bool _transferEncoding;
    private bool _chunked;
    private bool _expectContinue;
    private bool _continueRequested;

    /// <summary>Creates a parser with the given limits.</summary>
    /// <param name="maxHeaderBytes">The longest request head, in bytes (at least 64; default 8 KiB).</param>
    /// <param name="maxBodyBytes">The longest request body, in bytes (0 or more; default 1 MiB).</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public HttpRequestParser(int maxHeaderBytes = DefaultMaxHeaderBytes, long maxBodyBytes = DefaultMaxBodyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeaderBytes, 64);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBodyBytes);
        MaxHeaderBytes = maxHeaderBytes;
        MaxBodyBytes = maxBodyBytes;
        ResetRequest();
    }

    private enum Phase : byte
    {
        RequestLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Failed,
    }

    /// <summary>The longest request head accepted, in bytes.</summary>
    public int MaxHeaderBytes { get; }

    /// <summary>The longest request body accepted, in bytes.</summary>
    public long MaxBodyBytes { get; }

    /// <summary>An upper bound of the bytes <see cref="Parse"/> leaves unconsumed when it returns <see cref="ParseStatus.NeedMore"/>.</summary>
    public int MaxUnconsumedBytes => Math.Max(MaxHeaderBytes, MaxChunkLineBytes);

    /// <summary>The request the last <see cref="Parse"/> that returned <see cref="ParseStatus.Request"/> completed.</summary>
    public HttpRequest Request { get; private set; }

    /// <summary>After <see cref="ParseStatus.Error"/>: the status to answer (400, 413, 414, 431 or 505); 0 before.</summary>
    public int ErrorStatus { get; private set; }

    /// <summary>
    /// <see langword="true"/> once per request whose head said <c>Expect: 100-continue</c> and was accepted with a body
    /// to come: the client waits for <c>100 Continue</c> before it sends the body. Reading it clears it.
    /// </summary>
    /// <returns>Whether to send <c>HTTP/1.1 100 Continue</c> now (before the request's final response).</returns>
    public bool TakeContinueRequest()
    {
        bool requested = _continueRequested;
        _continueRequested = false;
        return requested;
    }

    /// <summary><see langword="true"/> between the first byte of a request and its completion (for idle policies).</summary>
    public bool InRequest => _phase != Phase.RequestLine || _headBytes > 0;

    /// <summary>Forgets everything: ready for a new connection.</summary>
    public void Reset()
    {
        _phase = Phase.RequestLine;
        ErrorStatus = 0;
        Request = default;
        _continueRequested = false;
        ResetRequest();
    }

    /// <summary>
    /// Parses as much of <paramref name="input"/> as forms complete lines (and body bytes), stopping after one complete
    /// request or at an error. Never throws for any input.
    /// </summary>
    /// <param name="input">The bytes not consumed by earlier calls, followed by any new ones.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> are done with; keep the rest for the next call.</param>
    /// <returns>What the call ended with.</returns>
    public ParseStatus Parse(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = input[consumed..];
            switch (_phase)
            {
                case Phase.RequestLine when rest.StartsWith(PingLine) && _headBytes + PingLine.Length <= MaxHeaderBytes:
                    // The request line every benchmark and health check sends: what the general path would conclude.
                    _method = HttpMethod.Get;
                    _isPing = true;
                    _http10 = false;
                    _phase = Phase.Headers;
                    _headBytes += PingLine.Length;
                    consumed += PingLine.Length;
                    continue;

                case Phase.RequestLine:
                case Phase.Headers:
                case Phase.Trailers:
                {
                    int lf = rest.IndexOf(LF);
                    if (lf < 0)
                    {
                        return Incomplete(rest);
                    }

                    int lineLength = lf + 1;
                    if (_headBytes + lineLength > MaxHeaderBytes)
                    {
                        return Fail(_phase == Phase.RequestLine ? 414 : 431);
                    }

                    if (lf == 0 || rest[lf - 1] != CR)
                    {
                        return Fail(400); // a bare LF
                    }

                    ReadOnlySpan<byte> line = rest[..(lf - 1)];
                    _headBytes += lineLength;
                    consumed += lineLength;
                    int status = _phase switch
                    {
                        Phase.RequestLine => line.IsEmpty ? 0 : RequestLine(line),
                        Phase.Headers => line.IsEmpty ? EndOfHead() : HeaderField(line),
                        _ => line.IsEmpty ? Complete() : Trailer(line),
                    };

                    if (status == 0)
                    {
                        continue;
                    }

                    return status == Done ? ParseStatus.Request : Fail(status);
                }

                case Phase.Body:
                case Phase.ChunkData:
                {
                    int take = (int)Math.Min(rest.Length, _bodyRemaining);
                    consumed += take;
                    _bodyRemaining -= take;
                    if (_bodyRemaining > 0)
                    {
                        return ParseStatus.NeedMore;
                    }

                    if (_phase == Phase.Body)
                    {
                        Complete();
                        return ParseStatus.Request;
                    }

                    _phase = Phase.ChunkDataEnd;
                    continue;
                }

                case Phase.ChunkDataEnd:
                    if (rest.Length < 2)
                    {
                        return rest.IsEmpty || rest[0] == CR ? ParseStatus.NeedMore : Fail(400);
                    }

                    if (rest[0] != CR || rest[1] != LF)
                    {
                        return Fail(400);
                    }

                    consumed += 2;
                    _phase = Phase.ChunkSize;
                    continue;

                case Phase.ChunkSize:
                {
                    int lf = rest.IndexOf(LF);
                    if (lf < 0)
                    {
                        return rest.Length >= MaxChunkLineBytes ? Fail(400) : ParseStatus.NeedMore;
                    }

                    if (lf + 1 > MaxChunkLineBytes || lf == 0 || rest[lf - 1] != CR)
                    {
                        return Fail(400);
                    }

                    consumed += lf + 1;
                    int status = ChunkSize(rest[..(lf - 1)]);
                    if (status != 0)
                    {
                        return Fail(status);
                    }

                    continue;
                }

                default:
                    return ParseStatus.Error;
            }
        }
    }

    private static ReadOnlySpan<byte> PingLine => "GET /ping HTTP/1.1\r\n"u8;

    /// <summary>Marks the end of a complete request; never a valid status code.</summary>
    private const int Done = 1;

    private static byte[] Range(int first, int last)
    {
        var bytes = new byte[last - first + 1];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(first + i);
        }

        return bytes;
    }

    /// <summary>No line end in <paramref name="rest"/>: refuse now what can no longer become valid, else wait.</summary>
    private ParseStatus Incomplete(ReadOnlySpan<byte> rest)
    {
        if (_headBytes + rest.Length >= MaxHeaderBytes)
        {
            // Even a CRLF as the very next bytes would make the line end past the limit.
            return Fail(_phase == Phase.RequestLine ? 414 : 431);
        }

        // A partial line may end with the CR of its CRLF; any other control character makes it invalid already.
        ReadOnlySpan<byte> partial = !rest.IsEmpty && rest[^1] == CR ? rest[..^1] : rest;
        if (_phase == Phase.RequestLine)
        {
            // Method, target and version are all visible ASCII separated by spaces.
            if (partial.IndexOfAnyExcept(RequestLineChars) >= 0)
            {
                return Fail(400);
            }
        }
        else if (partial.IndexOfAnyExcept(FieldChars) >= 0)
        {
            return Fail(400);
        }

        return ParseStatus.NeedMore;
    }

    private int RequestLine(ReadOnlySpan<byte> line)
    {
        int space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            return 400;
        }

        ReadOnlySpan<byte> method = line[..space];
        if (method.IndexOfAnyExcept(TokenChars) >= 0)
        {
            return 400;
        }

        line = line[(space + 1)..];
        space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            return 400;
        }

        ReadOnlySpan<byte> target = line[..space];
        ReadOnlySpan<byte> version = line[(space + 1)..];
        if (target.IndexOfAnyExcept(TargetChars) >= 0
            || version.Length != 8
            || !version.StartsWith("HTTP/"u8)
            || !char.IsAsciiDigit((char)version[5])
            || version[6] != (byte)'.'
            || !char.IsAsciiDigit((char)version[7]))
        {
            return 400;
        }

        if (version[5] != (byte)'1')
        {
            return 505;
        }

        _http10 = version[7] == (byte)'0';
        _method = method.SequenceEqual("GET"u8) ? HttpMethod.Get : method.SequenceEqual("HEAD"u8) ? HttpMethod.Head : HttpMethod.Other;
        _isPing = PathOf(target).SequenceEqual("/ping"u8);
        _phase = Phase.Headers;
        return 0;
    }

    /// <summary>The path of an origin-form or absolute-form target, without the query.</summary>
    private static ReadOnlySpan<byte> PathOf(ReadOnlySpan<byte> target)
    {
        if (target[0] != (byte)'/')
        {
            int scheme = target.IndexOf("://"u8);
            if (scheme <= 0)
            {
                return target; // "*" or authority-form: never a path this server serves
            }

            ReadOnlySpan<byte> afterAuthority = target[(scheme + 3)..];
            int slash = afterAuthority.IndexOf((byte)'/');
            target = slash < 0 ? "/"u8 : afterAuthority[slash..];
        }

        int query = target.IndexOf((byte)'?');
        return query < 0 ? target : target[..query];
    }

    private int HeaderField(ReadOnlySpan<byte> line)
    {
        if (!ParseField(line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value))
        {
            return 400;
        }

        switch (name.Length)
        {
            case 4 when Ascii.EqualsIgnoreCase(name, "host"u8):
                _hosts++;
                return 0;
            case 6 when Ascii.EqualsIgnoreCase(name, "expect"u8):
                _expectContinue |= Ascii.EqualsIgnoreCase(value, "100-continue"u8);
                return 0;
            case 10 when Ascii.EqualsIgnoreCase(name, "connection"u8):
                ConnectionOptions(value);
                return 0;
            case 14 when Ascii.EqualsIgnoreCase(name, "content-length"u8):
                return ContentLength(value);
            case 17 when Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8):
                return TransferCodings(value);
            default:
                return 0;
        }
    }

    private int Trailer(ReadOnlySpan<byte> line) => ParseField(line, out _, out _) ? 0 : 400;

    /// <summary><c>name ":" OWS value OWS</c>, with a token name and field-value characters.</summary>
    private static bool ParseField(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            name = value = default;
            return false; // no name, no colon, or obs-fold / leading whitespace (which is no token character)
        }

        name = line[..colon];
        value = line[(colon + 1)..].Trim(" \t"u8);
        return name.IndexOfAnyExcept(TokenChars) < 0 && value.IndexOfAnyExcept(FieldChars) < 0;
    }

    private void ConnectionOptions(ReadOnlySpan<byte> value)
    {
        foreach (Range element in value.Split((byte)','))
        {
            ReadOnlySpan<byte> option = value[element].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                _connectionClose = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                _connectionKeepAlive = true;
            }
        }
    }

    private int ContentLength(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return 400;
        }

        long length = 0;
        foreach (byte digit in value)
        {
            // Saturate far above any limit instead of overflowing: the size check at the end of the head answers 413.
            length = length > long.MaxValue / 20 ? long.MaxValue / 2 : (length * 10) + (digit - '0');
        }

        if (_contentLength >= 0 && _contentLength != length)
        {
            return 400;
        }

        _contentLength = length;
        return 0;
    }

    private int TransferCodings(ReadOnlySpan<byte> value)
    {
        _transferEncoding = true;
        foreach (Range element in value.Split((byte)','))
        {
            ReadOnlySpan<byte> coding = value[element].Trim(" \t"u8);
            if (coding.IsEmpty)
            {
                continue; // empty list elements are allowed (RFC 9110 5.6.1)
            }

            if (_chunked)
            {
                return 400; // a coding after chunked: the body's end cannot be found
            }

            _chunked = Ascii.EqualsIgnoreCase(coding, "chunked"u8);
        }

        return 0;
    }

    private int EndOfHead()
    {
        if (_transferEncoding && (!_chunked || _contentLength >= 0 || _http10))
        {
            return 400;
        }

        if (_http10 ? _hosts > 1 : _hosts != 1)
        {
            return 400;
        }

        if (_contentLength > MaxBodyBytes)
        {
            return 413;
        }

        _continueRequested = _expectContinue && !_http10 && (_chunked || _contentLength > 0);
        if (_chunked)
        {
            _phase = Phase.ChunkSize;
            return 0;
        }

        if (_contentLength > 0)
        {
            _bodyRemaining = _contentLength;
            _phase = Phase.Body;
            return 0;
        }

        return Complete();
    }

    private int ChunkSize(ReadOnlySpan<byte> line)
    {
        int digits = line.IndexOfAnyExcept(HexDigits);
        if (digits < 0)
        {
            digits = line.Length;
        }

        if (digits == 0)
        {
            return 400;
        }

        ReadOnlySpan<byte> extensions = line[digits..].TrimStart(" \t"u8);
        if (!extensions.IsEmpty && (extensions[0] != (byte)';' || extensions.IndexOfAnyExcept(FieldChars) >= 0))
        {
            return 400;
        }

        long size = 0;
        foreach (byte digit in line[..digits])
        {
            size = (size * 16) + HexValue(digit);
            if (size > MaxBodyBytes - _bodyTotal)
            {
                return 413;
            }
        }

        if (size == 0)
        {
            _headBytes = 0; // the trailer section gets a head's allowance of its own
            _phase = Phase.Trailers;
            return 0;
        }

        _bodyTotal += size;
        _bodyRemaining = size;
        _phase = Phase.ChunkData;
        return 0;
    }

    private static int HexValue(byte digit) => digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;

    private int Complete()
    {
        bool keepAlive = !_connectionClose && (!_http10 || _connectionKeepAlive);
        Request = new HttpRequest(_method, _isPing, keepAlive, _http10);
        ResetRequest();
        _phase = Phase.RequestLine;
        return Done;
    }

    private ParseStatus Fail(int status)
    {
        _phase = Phase.Failed;
        ErrorStatus = status;
        return ParseStatus.Error;
    }

    private void ResetRequest()
    {
        _headBytes = 0;
        _bodyRemaining = 0;
        _bodyTotal = 0;
        _method = HttpMethod.Other;
        _isPing = false;
        _http10 = false;
        _connectionClose = false;
        _connectionKeepAlive = false;
        _hosts = 0;
        _contentLength = -1;
        _transferEncoding = false;
        _chunked = false;
        _expectContinue = false;
    }
}
