namespace Polling;

/// <summary>
/// Something that can be registered with a <see cref="Registry"/>: a socket, a pipe, a waker, a timer,
/// a channel, or any file descriptor through <see cref="SourceFd"/>. This is mio's <c>event::Source</c>.
/// </summary>
/// <remarks>
/// Users call <see cref="Registry.Register"/>, <see cref="Registry.Reregister"/> and
/// <see cref="Registry.Deregister"/>; the registry validates the arguments and then calls these
/// methods. A source built on other sources implements them by forwarding to its inner source,
/// which is how a framework type wraps a socket:
/// </remarks>
/// <example>
/// <code>
/// sealed class Connection : ISource
/// {
///     readonly TcpStream _stream;
///     public void Register(Registry r, Token t, Interest i, Trigger g) => r.Register(_stream, t, i, g);
///     public void Reregister(Registry r, Token t, Interest i, Trigger g) => r.Reregister(_stream, t, i, g);
///     public void Deregister(Registry r) => r.Deregister(_stream);
/// }
/// </code>
/// </example>
public interface ISource
{
    /// <summary>Registers this source with <paramref name="registry"/>. Called by <see cref="Registry.Register"/>.</summary>
    void Register(Registry registry, Token token, Interest interest, Trigger trigger);

    /// <summary>Changes the registration of this source. Called by <see cref="Registry.Reregister"/>.</summary>
    void Reregister(Registry registry, Token token, Interest interest, Trigger trigger);

    /// <summary>Removes this source from <paramref name="registry"/>. Called by <see cref="Registry.Deregister"/>.</summary>
    void Deregister(Registry registry);
}
