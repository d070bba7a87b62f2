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

    /// <summary>
    /// Descriptors to keep free below the process's limit: the server holds at most as many connections as leave
    /// this many free and sheds the rest (see <see cref="Polling.Net.AcceptLoopOptions.DescriptorHeadroom"/>). Count
    /// what the process still opens after it starts serving: the runtime's signal-handling thread at SIGTERM
    /// (<see cref="Polling.Net.AcceptLoopOptions.SignalHeadroom"/>), thread-pool threads, and the connections of
    /// <see cref="ServiceClient{TRequest,TResponse}"/> pools (both ends, if the backends run in the same process).
    /// Null (the default): no cap.
    /// </summary>
    public int? DescriptorHeadroom { get; init; }

    internal static ServerOptions Default { get; } = new();
}
