using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace Polling.Services.Http;

/// <summary>
/// HTTP/1.1 for a <see cref="ServiceServer{TRequest,TResponse}"/>: keep-alive, pipelining, Content-Length bodies
/// (up to 1 MiB; heads up to 16 KiB). Requests are recycled after their answer, so parsing and encoding allocate
/// nothing in steady state. Failed services are answered 504 (<see cref="TimeoutException"/>), 503
/// (<see cref="RejectedException"/>, <see cref="ConnectionFailedException"/>) or 500; bad input with its
/// <see cref="ProtocolException.Code"/> (400, 413, 431, 501), and the connection closes after it.
/// </summary>
/// <example>
/// <code>
/// using var server = new ServiceServer&lt;HttpRequest, HttpResponse&gt;(loop, endpoint, new HttpServerCodec(), app);
/// </code>
/// </example>
public sealed class HttpServerCodec : ServerCodec<HttpRequest, HttpResponse>
{
    private static readonly HttpResponse TimedOut = HttpResponse.Text(504, "timed out\n");
    private static readonly HttpResponse Unavailable = HttpResponse.Text(503, "unavailable\n");
    private static readonly HttpResponse Failed = HttpResponse.Text(500, "internal error\n");

    private readonly Stack<HttpRequest> _pool = new();

    /// <summary>Services that failed with something other than a timeout or an unavailable backend (answered 500).</summary>
    public long InternalErrors { get; private set; }

    /// <inheritdoc/>
    public override bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out HttpRequest request, out int consumed)
    {
        HttpRequest candidate = _pool.Count > 0 ? _pool.Pop() : new HttpRequest();
        bool parsed;
        try
        {
            parsed = HttpParser.TryParse(input, candidate, out consumed);
        }
        catch
        {
            _pool.Push(candidate);
            throw;
        }

        if (!parsed)
        {
            _pool.Push(candidate);
            request = null;
            return false;
        }

        request = candidate;
        return true;
    }

    /// <inheritdoc/>
    public override bool Encode(HttpRequest request, HttpResponse response, IBufferWriter<byte> output)
    {
        Write(response, request.KeepAlive, output);
        return request.KeepAlive;
    }

    /// <inheritdoc/>
    public override bool EncodeFailure(HttpRequest request, Exception error, IBufferWriter<byte> output)
    {
        HttpResponse response = error switch
        {
            TimeoutException => TimedOut,
            RejectedException or ConnectionFailedException => Unavailable,
            _ => Failed,
        };
        if (response == Failed)
        {
            InternalErrors++;
        }

        return Encode(request, response, output);
    }

    /// <inheritdoc/>
    public override void EncodeProtocolError(ProtocolException error, IBufferWriter<byte> output) =>
        Write(HttpResponse.Text(error.Code is >= 400 and < 600 ? error.Code : 400, error.Message + "\n"), keepAlive: false, output);

    /// <inheritdoc/>
    public override void Release(HttpRequest request) => _pool.Push(request);

    private static void Write(HttpResponse response, bool keepAlive, IBufferWriter<byte> output)
    {
        ReadOnlySpan<byte> body = response.Body.Span;
        ReadOnlySpan<byte> close = keepAlive ? default : "Connection: close\r\n"u8;
        int length = response.HeaderBytes.Length + 12 + close.Length + 4 + body.Length;
        Span<byte> span = output.GetSpan(length);
        response.HeaderBytes.CopyTo(span);
        int at = response.HeaderBytes.Length;
        Utf8Formatter.TryFormat(body.Length, span[at..], out int digits);
        at += digits;
        "\r\n"u8.CopyTo(span[at..]);
        at += 2;
        close.CopyTo(span[at..]);
        at += close.Length;
        "\r\n"u8.CopyTo(span[at..]);
        at += 2;
        body.CopyTo(span[at..]);
        output.Advance(at + body.Length);
    }
}
