namespace Polling.Services;

/// <summary>Settings of a <see cref="ServiceClient{TRequest,TResponse}"/>.</summary>
/// <example>
/// <code>
/// new ServiceClient&lt;string, string&gt;(loop, hosts, codec, new ClientOptions { ConnectionsPerHost = 4, MaxQueued = 100 });
/// </code>
/// </example>
public sealed class ClientOptions
{
    /// <summary>Connections the pool of one host may open (it opens one at first and grows while all are busy). Default 4.</summary>
    public int ConnectionsPerHost { get; init; } = 4;

    /// <summary>Requests written on one connection before its answers come back (1 = no pipelining). Default 1.</summary>
    public int MaxOutstandingPerConnection { get; init; } = 1;

    /// <summary>Requests that may wait while every connection is busy; beyond it a request fails at once with <see cref="RejectedException"/>. Default 1000.</summary>
    public int MaxQueued { get; init; } = 1000;

    /// <summary>The first wait before reconnecting to a failed host; it doubles on each failure. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between reconnection attempts. Default 5 s.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    internal static ClientOptions Default { get; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionsPerHost, 1, nameof(ConnectionsPerHost));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutstandingPerConnection, 1, nameof(MaxOutstandingPerConnection));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxQueued, nameof(MaxQueued));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectDelay, TimeSpan.FromMilliseconds(1), nameof(ReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReconnectDelay, ReconnectDelay, nameof(MaxReconnectDelay));
    }
}

/// <summary>Where a host of a <see cref="ServiceClient{TRequest,TResponse}"/> stands in its load balancer.</summary>
public enum HostState
{
    /// <summary>Connecting (at start, or again after a failure); requests may queue for it.</summary>
    Connecting,

    /// <summary>Connected; takes requests.</summary>
    Up,

    /// <summary>Failed; out of the balancer until a background reconnection succeeds.</summary>
    Down,
}

/// <summary>A snapshot of one host of a <see cref="ServiceClient{TRequest,TResponse}"/>.</summary>
/// <param name="EndPoint">The host.</param>
/// <param name="State">Its state in the balancer.</param>
/// <param name="Outstanding">Requests sent to it and not answered.</param>
/// <param name="Connections">Connections open or opening.</param>
/// <param name="Requests">Requests sent to it so far.</param>
/// <param name="Failures">Times it failed.</param>
/// <example>
/// <code>
/// foreach (HostStatus host in client.Hosts) Console.WriteLine(host);
/// </code>
/// </example>
public readonly record struct HostStatus(System.Net.IPEndPoint EndPoint, HostState State, int Outstanding, int Connections, long Requests, long Failures);
