namespace Polling.Services;

/// <summary>
/// A request was not sent: the client's queue was full, no host was available, or the client was disposed.
/// The remote service never saw it, so retrying is safe (<see cref="RetryFilter{TRequest,TResponse}"/> does by default).
/// </summary>
/// <example>
/// <code>
/// try { await client.InvokeAsync(request); }
/// catch (RejectedException e) { Console.WriteLine($"not sent: {e.Message}"); }
/// </code>
/// </example>
public sealed class RejectedException : Exception
{
    /// <summary>Creates the exception with a message that says why the request was not sent.</summary>
    /// <param name="message">Why, and what to do.</param>
    public RejectedException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The connection a request was sent on failed (refused, reset, closed by the peer) before its response came.
/// The remote service may or may not have acted on it.
/// </summary>
/// <example>
/// <code>
/// catch (ConnectionFailedException e) { Console.WriteLine($"{e.Host}: {e.Message}"); }
/// </code>
/// </example>
public sealed class ConnectionFailedException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="host">The host the connection went to.</param>
    /// <param name="message">What happened.</param>
    public ConnectionFailedException(System.Net.IPEndPoint host, string message)
        : base($"{host}: {message}")
    {
        Host = host;
    }

    /// <summary>The host the connection went to.</summary>
    public System.Net.IPEndPoint Host { get; }
}

/// <summary>
/// Bad protocol input from a peer (a malformed request, a line too long). A server answers it with the codec's
/// protocol error and closes that connection once the answer is sent; the server lives on.
/// </summary>
/// <example>
/// <code>
/// throw new ProtocolException(400, "request line is not 'METHOD target HTTP/1.x'");
/// </code>
/// </example>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">A protocol-specific code for the answer (an HTTP status for HTTP).</param>
    /// <param name="message">What was wrong with the input.</param>
    public ProtocolException(int code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>A protocol-specific code for the answer (an HTTP status for HTTP).</summary>
    public int Code { get; }
}
