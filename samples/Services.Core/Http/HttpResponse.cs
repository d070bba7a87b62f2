using System.Text;

namespace Polling.Services.Http;

/// <summary>
/// An HTTP response: status, content type and body. Immutable, so a service can answer with a shared instance
/// (<see cref="Pong"/>) and allocate nothing per request.
/// </summary>
/// <example>
/// <code>
/// static readonly HttpResponse NotFound = HttpResponse.Text(404, "not found\n");
/// HttpResponse ok = HttpResponse.Json(200, """{"ok": true}""");
/// </code>
/// </example>
public sealed class HttpResponse
{
    /// <summary>Creates a response.</summary>
    /// <param name="status">The status code, 100 to 599.</param>
    /// <param name="body">The body bytes (not copied: do not change them afterwards).</param>
    /// <param name="contentType">The Content-Type.</param>
    /// <param name="extraHeaders">More header lines, each "Name: value" (no CRLF), or null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not 100 to 599.</exception>
    public HttpResponse(int status, ReadOnlyMemory<byte> body, string contentType = "text/plain; charset=utf-8", string? extraHeaders = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        ArgumentNullException.ThrowIfNull(contentType);
        Status = status;
        Body = body;
        ContentType = contentType;
        ExtraHeaders = extraHeaders;
        HeaderBytes = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nContent-Type: {contentType}\r\n{(extraHeaders is null ? string.Empty : extraHeaders + "\r\n")}Content-Length: ");
    }

    /// <summary>200 "PONG".</summary>
    public static HttpResponse Pong { get; } = Text(200, "PONG");

    /// <summary>The status code.</summary>
    public int Status { get; }

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The Content-Type.</summary>
    public string ContentType { get; }

    /// <summary>Extra header lines, or null.</summary>
    public string? ExtraHeaders { get; }

    /// <summary>The body as text.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body.Span);

    /// <summary>Status line and headers up to the Content-Length value, encoded once.</summary>
    internal byte[] HeaderBytes { get; }

    /// <summary>A text/plain response.</summary>
    /// <param name="status">The status code.</param>
    /// <param name="text">The body.</param>
    public static HttpResponse Text(int status, string text) => new(status, Encoding.UTF8.GetBytes(text));

    /// <summary>An application/json response.</summary>
    /// <param name="status">The status code.</param>
    /// <param name="json">The body, already JSON.</param>
    public static HttpResponse Json(int status, string json) => new(status, Encoding.UTF8.GetBytes(json), "application/json");

    /// <inheritdoc/>
    public override string ToString() => $"{Status} {ReasonPhrase(Status)} ({Body.Length} bytes)";

    /// <summary>The standard reason phrase of a status code.</summary>
    /// <param name="status">The status code.</param>
    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };
}
