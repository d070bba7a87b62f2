namespace Polling.Actors;

/// <summary>
/// The actor of one connection: its mailbox receives the messages the codec parses from the socket (and, last,
/// the codec's disconnect message), plus whatever other actors send it; it replies through <see cref="Connection"/>.
/// An <see cref="ActorServer{TMessage,TReply}"/> makes one per accepted connection and stops it after the
/// disconnect message.
/// </summary>
/// <remarks>
/// While <see cref="Connection"/> is congested (its peer does not read), the actor takes no message: its mailbox
/// fills to its bound and its senders are refused — the socket's back-pressure, carried into the actor world.
/// While its mailbox is full, the loop stops reading its socket — the actor's back-pressure, carried to the peer by TCP.
/// </remarks>
/// <example>
/// <code>
/// sealed class EchoActor : ConnectionActor&lt;string, string&gt;
/// {
///     protected override ValueTask ReceiveAsync(string line)
///     {
///         Connection.Send(line);
///         return ValueTask.CompletedTask;
///     }
/// }
/// </code>
/// </example>
/// <typeparam name="TMessage">What the actor receives.</typeparam>
/// <typeparam name="TReply">What it sends to its socket.</typeparam>
public abstract class ConnectionActor<TMessage, TReply> : Actor<TMessage>
{
    private Connection<TReply>? _connection;

    /// <summary>The socket's sending side and delivery progress.</summary>
    /// <exception cref="InvalidOperationException">The actor was not started by an <see cref="ActorServer{TMessage,TReply}"/>.</exception>
    public Connection<TReply> Connection =>
        _connection ?? throw new InvalidOperationException("This actor has no connection: connection actors are started by an ActorServer.");

    internal void Attach(Connection<TReply> connection) => _connection = connection;

    internal override ValueTask BeforeTakeAsync() => _connection is { } c ? c.WhenDrainedAsync() : ValueTask.CompletedTask;

    internal override void AfterTake() => ResumeHook?.Invoke();

    /// <summary>Set by the server: tells the loop that the mailbox has room again if it paused reading.</summary>
    internal Action? ResumeHook { get; set; }
}
