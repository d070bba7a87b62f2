using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace HttpPing;

/// <summary>
/// Every response this server sends, as precomputed bytes: a request costs a table look-up and a copy. The
/// <c>Date</c> header (RFC 9110 6.6.1) is patched into all of them at once when the second changes
/// (<see cref="SetDate"/>), so the steady state formats nothing. Not thread-safe: owned by the loop.
/// </summary>
/// <example>
/// <code>
/// var responses = new HttpResponses();
/// responses.SetDate(DateTimeOffset.UtcNow);
/// ReadOnlySpan&lt;byte&gt; bytes = responses.For(parser.Request);   // or responses.ForError(parser.ErrorStatus)
/// </code>
/// </example>
public sealed class HttpResponses
{
    /// <summary>The interim response to <c>Expect: 100-continue</c>.</summary>
    public static ReadOnlySpan<byte> Continue => "HTTP/1.1 100 Continue\r\n\r\n"u8;

    /// <summary>The body of <c>GET /ping</c>.</summary>
    public static ReadOnlySpan<byte> PingBody => "PONG"u8;

    private const int DateLength = 29; // "Tue, 01 Dec 2026 20:15:30 GMT"

    /// <summary>Index: (kind * 2 + head) * 3 + connection mode.</summary>
    private readonly byte[][] _answers;
    private readonly int[] _answerDateOffsets;
    private readonly byte[][] _errors;
    private readonly int[] _errorDateOffsets;
    private readonly int[] _errorStatuses = [400, 413, 414, 431, 505];
    private long _dateSecond = long.MinValue;

    /// <summary>Builds the table (dated 1970 until the first <see cref="SetDate"/>).</summary>
    public HttpResponses()
    {
        _answers = new byte[3 * 2 * 3][];
        _answerDateOffsets = new int[_answers.Length];
        for (int kind = 0; kind < 3; kind++)
        {
            for (int head = 0; head < 2; head++)
            {
                for (int mode = 0; mode < 3; mode++)
                {
                    int index = (((kind * 2) + head) * 3) + mode;
                    (string status, string extra, string body) = kind switch
                    {
                        0 => ("200 OK", "", "PONG"),
                        1 => ("404 Not Found", "", "Not Found\n"),
                        _ => ("405 Method Not Allowed", "Allow: GET, HEAD\r\n", "Method Not Allowed\n"),
                    };
                    string connection = mode switch { 0 => "", 1 => "Connection: keep-alive\r\n", _ => "Connection: close\r\n" };
                    _answers[index] = Build(status, extra + connection, body, head == 1, out _answerDateOffsets[index]);
                }
            }
        }

        _errors = new byte[_errorStatuses.Length][];
        _errorDateOffsets = new int[_errorStatuses.Length];
        for (int i = 0; i < _errorStatuses.Length; i++)
        {
            string reason = _errorStatuses[i] switch
            {
                400 => "Bad Request",
                413 => "Content Too Large",
                414 => "URI Too Long",
                431 => "Request Header Fields Too Large",
                _ => "HTTP Version Not Supported",
            };
            _errors[i] = Build($"{_errorStatuses[i]} {reason}", "Connection: close\r\n", reason + "\n", omitBody: false, out _errorDateOffsets[i]);
        }

        SetDate(DateTimeOffset.UnixEpoch);
    }

    /// <summary>The longest response in the table, in bytes (for sizing output buffers).</summary>
    public int MaxResponseLength { get; private set; }

    /// <summary>Writes <paramref name="now"/> into every response's <c>Date</c> header if its second differs from the last one.</summary>
    /// <param name="now">The current time (any offset; written as GMT).</param>
    public void SetDate(DateTimeOffset now)
    {
        long second = now.ToUnixTimeSeconds();
        if (second == _dateSecond)
        {
            return;
        }

        _dateSecond = second;
        Span<byte> date = stackalloc byte[DateLength];
        Utf8Formatter.TryFormat(DateTimeOffset.FromUnixTimeSeconds(second), date, out _, new StandardFormat('R'));
        for (int i = 0; i < _answers.Length; i++)
        {
            date.CopyTo(_answers[i].AsSpan(_answerDateOffsets[i]));
        }

        for (int i = 0; i < _errors.Length; i++)
        {
            date.CopyTo(_errors[i].AsSpan(_errorDateOffsets[i]));
        }
    }

    /// <summary>The response to a complete request: 200 PONG for GET/HEAD /ping, 405 for other methods there, else 404.</summary>
    /// <param name="request">What the parser read.</param>
    /// <returns>The bytes to send; valid until the next <see cref="SetDate"/>.</returns>
    public ReadOnlySpan<byte> For(in HttpRequest request)
    {
        int kind = !request.IsPing ? 1 : request.Method == HttpMethod.Other ? 2 : 0;
        int head = request.Method == HttpMethod.Head ? 1 : 0;
        int mode = !request.KeepAlive ? 2 : request.IsHttp10 ? 1 : 0;
        return _answers[(((kind * 2) + head) * 3) + mode];
    }

    /// <summary>The response to a protocol error (always with <c>Connection: close</c>).</summary>
    /// <param name="status">400, 413, 414, 431 or 505 (anything else is answered as 400).</param>
    /// <returns>The bytes to send; valid until the next <see cref="SetDate"/>.</returns>
    public ReadOnlySpan<byte> ForError(int status)
    {
        int index = Array.IndexOf(_errorStatuses, status);
        return _errors[index < 0 ? 0 : index];
    }

    private byte[] Build(string status, string headers, string body, bool omitBody, out int dateOffset)
    {
        string head = $"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n{headers}Date: ";
        dateOffset = Encoding.ASCII.GetByteCount(head);
        byte[] bytes = Encoding.ASCII.GetBytes(head + new string('-', DateLength) + "\r\n\r\n" + (omitBody ? "" : body));
        MaxResponseLength = Math.Max(MaxResponseLength, bytes.Length);
        return bytes;
    }
}
