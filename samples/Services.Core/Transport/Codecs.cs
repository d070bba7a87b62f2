using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Polling.Services;

/// <summary>
/// How a <see cref="ServiceServer{TRequest,TResponse}"/> turns bytes into requests and responses into bytes — the
/// "parse" and "encode" of a server as a function. All members are called on the loop thread.
/// </summary>
/// <example>
/// <code>
/// using var server = new ServiceServer&lt;HttpRequest, HttpResponse&gt;(loop, endpoint, new HttpServerCodec(), app);
/// </code>
/// </example>
/// <typeparam name="TRequest">What the bytes become.</typeparam>
/// <typeparam name="TResponse">What becomes bytes.</typeparam>
public abstract class ServerCodec<TRequest, TResponse>
{
    /// <summary>
    /// Parses one request from the front of <paramref name="input"/>: <see langword="true"/> with the request and
    /// the bytes it used, or <see langword="false"/> when more bytes are needed. Bad input throws
    /// <see cref="ProtocolException"/>; input that can never become a request must throw rather than wait.
    /// </summary>
    /// <param name="input">The bytes received and not yet consumed.</param>
    /// <param name="request">The request.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> it took.</param>
    public abstract bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out TRequest request, out int consumed);

    /// <summary>Writes the response to <paramref name="request"/>; returns <see langword="false"/> to close the connection after it.</summary>
    /// <param name="request">The request answered.</param>
    /// <param name="response">The answer.</param>
    /// <param name="output">Where the bytes go.</param>
    public abstract bool Encode(TRequest request, TResponse response, IBufferWriter<byte> output);

    /// <summary>Writes the answer to a request whose service failed (HTTP: 504 for a timeout, 503, 500); <see langword="false"/> to close after it.</summary>
    /// <param name="request">The request.</param>
    /// <param name="error">What the service's task failed with.</param>
    /// <param name="output">Where the bytes go.</param>
    public abstract bool EncodeFailure(TRequest request, Exception error, IBufferWriter<byte> output);

    /// <summary>Writes the answer to bad input; the connection closes once it is sent.</summary>
    /// <param name="error">What was wrong.</param>
    /// <param name="output">Where the bytes go.</param>
    public abstract void EncodeProtocolError(ProtocolException error, IBufferWriter<byte> output);

    /// <summary>Called when a request's answer has been encoded (or its connection closed): recycle it here.</summary>
    /// <param name="request">The request, no longer used by the server.</param>
    public virtual void Release(TRequest request)
    {
    }
}

/// <summary>
/// How a <see cref="ServiceClient{TRequest,TResponse}"/> writes requests and reads responses. Responses come back
/// in the order the requests were written on a connection. Called on the loop thread.
/// </summary>
/// <example>
/// <code>
/// var users = new ServiceClient&lt;string, string&gt;(loop, [userHost], new LineClientCodec());
/// </code>
/// </example>
/// <typeparam name="TRequest">What is sent.</typeparam>
/// <typeparam name="TResponse">What comes back.</typeparam>
public abstract class ClientCodec<TRequest, TResponse>
{
    /// <summary>Writes <paramref name="request"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="output">Where the bytes go.</param>
    public abstract void Encode(TRequest request, IBufferWriter<byte> output);

    /// <summary>
    /// Parses one response from the front of <paramref name="input"/>, or returns <see langword="false"/> when more
    /// bytes are needed; bad input throws <see cref="ProtocolException"/> (the connection is then failed).
    /// </summary>
    /// <param name="input">The bytes received and not yet consumed.</param>
    /// <param name="response">The response.</param>
    /// <param name="consumed">How many bytes it took.</param>
    public abstract bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out TResponse response, out int consumed);
}
