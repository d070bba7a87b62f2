namespace HttpPing;

/// <summary>The request method, as far as this server tells methods apart (methods are case-sensitive).</summary>
public enum HttpMethod : byte
{
    /// <summary>Any method other than GET and HEAD (POST, PUT, an extension method, ...).</summary>
    Other,

    /// <summary><c>GET</c>.</summary>
    Get,

    /// <summary><c>HEAD</c>: answered like GET, without the body.</summary>
    Head,
}

/// <summary>
/// What <see cref="HttpRequestParser"/> learned from one complete request (head and body): the few facts the server
/// answers on. The parser keeps no spans into the caller's buffer, so a request may arrive in any fragmentation.
/// </summary>
/// <example>
/// <code>
/// if (parser.Parse(input, out int consumed) == ParseStatus.Request)
/// {
///     HttpRequest request = parser.Request;
///     bool ping = request.IsPing &amp;&amp; request.Method == HttpMethod.Get;
/// }
/// </code>
/// </example>
/// <param name="Method">GET, HEAD or other.</param>
/// <param name="IsPing">The target's path (without query) is exactly <c>/ping</c>.</param>
/// <param name="KeepAlive">
/// The connection stays open after the response: HTTP/1.1 unless <c>Connection: close</c>; HTTP/1.0 only with
/// <c>Connection: keep-alive</c> (and no <c>close</c>).
/// </param>
/// <param name="IsHttp10">The request said HTTP/1.0 (the response must then say <c>Connection: keep-alive</c> to keep it open).</param>
public readonly record struct HttpRequest(HttpMethod Method, bool IsPing, bool KeepAlive, bool IsHttp10);

/// <summary>What one <see cref="HttpRequestParser.Parse"/> call ended with.</summary>
public enum ParseStatus : byte
{
    /// <summary>All input so far is a valid prefix of a request; call again with the unconsumed bytes plus more.</summary>
    NeedMore,

    /// <summary>A complete request was read; see <see cref="HttpRequestParser.Request"/>. Call again for the next one.</summary>
    Request,

    /// <summary>
    /// The input is not HTTP/1.1 this server accepts; see <see cref="HttpRequestParser.ErrorStatus"/>. Answer with that
    /// status and close: the parser stays failed (every later call returns <see cref="Error"/> again).
    /// </summary>
    Error,
}
