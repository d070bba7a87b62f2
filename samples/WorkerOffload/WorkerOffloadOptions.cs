namespace WorkerOffload;

/// <summary>Settings of a <see cref="WorkerOffloadServer"/>.</summary>
public sealed class WorkerOffloadOptions
{
    /// <summary>Stop on SIGINT and SIGTERM, received as events through a <c>SignalSource</c> (the sample program turns this on; tests leave it off).</summary>
    public bool StopOnSignals { get; init; }

    /// <summary>
    /// Hold at most as many connections as leave this many descriptors free below the process's limit
    /// (<see cref="Polling.Net.AcceptLoopOptions.DescriptorHeadroom"/>): the runtime's signal thread, and each new
    /// thread-pool worker, opens files when it starts. <see langword="null"/> (the default): no cap; the program sets 4.
    /// </summary>
    public int? DescriptorHeadroom { get; init; }

    /// <summary>Close a connection that sends nothing for this long (a <c>TimerWheel</c> timeout per connection). Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After a stop request, how long running jobs get to deliver their replies (a <c>TimerSource</c>). Default 10 s.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Jobs running at once across all connections; beyond it a <c>work</c> request is answered <c>busy</c>. Default 256.</summary>
    public int MaxJobsInFlight { get; init; } = 256;

    /// <summary>The longest job a client may ask for. Default 60 s.</summary>
    public TimeSpan MaxJobDuration { get; init; } = TimeSpan.FromSeconds(60);
}
