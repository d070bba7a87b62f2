namespace Polling.Services;

/// <summary>Settings of a <see cref="ServiceServer{TRequest,TResponse}"/>.</summary>
/// <example>
/// <code>
/// new ServiceServer&lt;HttpRequest, HttpResponse&gt;(loop, endpoint, codec, app, new ServerOptions { MaxPipelined = 16 });
/// </code>
/// </example>
public sealed class ServerOptions
{
    /// <summary>Requests of one connection in flight at once; beyond it the server stops reading that connection until answers go out. Default 64.</summary>
    public int MaxPipelined { get; init; } = 64;

    /// <summary>Encoded answers one connection may hold unsent before the server stops reading it. Default 1 MiB.</summary>
    public int MaxBufferedOutput { get; init; } = 1 << 20;

    /// <summary>The listen backlog. Default 1024.</summary>
    public int Backlog { get; init; } = 1024;

    internal static ServerOptions Default { get; } = new();
}
