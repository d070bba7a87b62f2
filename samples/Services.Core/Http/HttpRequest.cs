using System.Text;

namespace Polling.Services.Http;

/// <summary>
/// An HTTP/1.1 request as <see cref="HttpServerCodec"/> parses it, or as a test builds it with <see cref="Get"/>.
/// The bytes live in the request itself (copied from the connection's buffer), so a service may use it until it
/// has answered; the server recycles the object after the answer is encoded — do not keep it longer.
/// </summary>
/// <remarks>
/// Span members (<see cref="PathBytes"/>, <see cref="TryGetHeader"/>) allocate nothing; string members
/// (<see cref="Path"/>, <see cref="GetHeader"/>, <see cref="GetQuery"/>) allocate when called.
/// </remarks>
/// <example>
/// <code>
/// HttpRequest request = HttpRequest.Get("/timeline/alice?delay=10", ("Authorization", "Bearer demo"));
/// bool isPing = request.PathBytes.SequenceEqual("/ping"u8);
/// string? delay = request.GetQuery("delay");       // "10"
/// </code>
/// </example>
public sealed class HttpRequest
{
    private const int MaxHeaders = 64;

    private readonly (int NameStart, int NameLength, int ValueStart, int ValueLength)[] _headers = new (int, int, int, int)[MaxHeaders];
    private byte[] _data = new byte[512];
    private int _targetStart;
    private int _targetLength;
    private int _pathLength;
    private int _bodyStart;
    private string? _path;

    internal HttpRequest()
    {
    }

    /// <summary>The method: "GET", "POST", ... (the common ones are shared strings, not allocated per request).</summary>
    public string Method { get; private set; } = "GET";

    /// <summary>The request target as sent: path and query.</summary>
    public ReadOnlySpan<byte> Target => _data.AsSpan(_targetStart, _targetLength);

    /// <summary>The path part of the target (before '?').</summary>
    public ReadOnlySpan<byte> PathBytes => _data.AsSpan(_targetStart, _pathLength);

    /// <summary>The query part of the target (after '?'), empty if none.</summary>
    public ReadOnlySpan<byte> QueryBytes => _pathLength < _targetLength ? _data.AsSpan(_targetStart + _pathLength + 1, _targetLength - _pathLength - 1) : default;

    /// <summary>The path as a string (allocated on first use, then cached).</summary>
    public string Path => _path ??= Encoding.UTF8.GetString(PathBytes);

    /// <summary>The number of headers.</summary>
    public int HeaderCount { get; private set; }

    /// <summary>The body (empty without Content-Length).</summary>
    public ReadOnlySpan<byte> Body => _data.AsSpan(_bodyStart, BodyLength);

    /// <summary>Whether the client wants the connection kept open after the answer (HTTP/1.1 default, unless "Connection: close").</summary>
    public bool KeepAlive { get; private set; } = true;

    private int BodyLength { get; set; }

    /// <summary>A GET request for tests and in-process calls.</summary>
    /// <param name="target">Path and query, e.g. "/timeline/alice?delay=10".</param>
    /// <param name="headers">Headers to include.</param>
    public static HttpRequest Get(string target, params (string Name, string Value)[] headers)
    {
        ArgumentNullException.ThrowIfNull(target);
        var head = new StringBuilder($"GET {target} HTTP/1.1\r\nHost: localhost\r\n");
        foreach ((string name, string value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        byte[] bytes = Encoding.UTF8.GetBytes(head.Append("\r\n").ToString());
        var request = new HttpRequest();
        if (!HttpParser.TryParse(bytes, request, out _))
        {
            throw new ArgumentException($"'{target}' does not make a complete request.", nameof(target));
        }

        return request;
    }

    /// <summary>Looks up a header by name (ASCII case-insensitive); the first one if repeated.</summary>
    /// <param name="name">The header name, e.g. "Authorization"u8.</param>
    /// <param name="value">Its value, without surrounding spaces.</param>
    public bool TryGetHeader(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            var h = _headers[i];
            if (System.Text.Ascii.EqualsIgnoreCase(_data.AsSpan(h.NameStart, h.NameLength), name))
            {
                value = _data.AsSpan(h.ValueStart, h.ValueLength);
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>A header's value as a string, or null (allocates).</summary>
    /// <param name="name">The header name.</param>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGetHeader(Encoding.ASCII.GetBytes(name), out ReadOnlySpan<byte> value) ? Encoding.UTF8.GetString(value) : null;
    }

    /// <summary>A query parameter's value (not percent-decoded), or null (allocates).</summary>
    /// <param name="name">The parameter name.</param>
    public string? GetQuery(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ReadOnlySpan<byte> query = QueryBytes;
        byte[] wanted = Encoding.UTF8.GetBytes(name);
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            ReadOnlySpan<byte> pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? default : query[(amp + 1)..];
            int eq = pair.IndexOf((byte)'=');
            ReadOnlySpan<byte> key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(wanted))
            {
                return eq < 0 ? string.Empty : Encoding.UTF8.GetString(pair[(eq + 1)..]);
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Encoding.UTF8.GetString(Target)}";

    /// <summary>Copies a parsed request's bytes in and records where its parts are (called by the parser).</summary>
    internal Span<byte> Reset(int length)
    {
        if (_data.Length < length)
        {
            _data = new byte[Math.Max(length, _data.Length * 2)];
        }

        HeaderCount = 0;
        _path = null;
        BodyLength = 0;
        KeepAlive = true;
        return _data.AsSpan(0, length);
    }

    internal void SetRequestLine(string method, int targetStart, int targetLength, int pathLength)
    {
        Method = method;
        _targetStart = targetStart;
        _targetLength = targetLength;
        _pathLength = pathLength;
    }

    internal bool AddHeader(int nameStart, int nameLength, int valueStart, int valueLength)
    {
        if (HeaderCount == MaxHeaders)
        {
            return false;
        }

        _headers[HeaderCount++] = (nameStart, nameLength, valueStart, valueLength);
        return true;
    }

    internal void SetBody(int start, int length)
    {
        _bodyStart = start;
        BodyLength = length;
    }

    internal void SetKeepAlive(bool keepAlive) => KeepAlive = keepAlive;
}
