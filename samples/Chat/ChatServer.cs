using System.Net;
using Polling.Actors;

namespace Chat;

/// <summary>The chat: a <see cref="Room"/> actor and an <see cref="ActorServer{TMessage,TReply}"/> that gives every connection a <see cref="ChatSession"/>.</summary>
public sealed class ChatServer : IDisposable
{
    private readonly ActorServer<SessionMessage, string> _server;

    /// <summary>Binds the server and starts the room.</summary>
    /// <param name="endpoint">Where to listen.</param>
    /// <param name="options">Server settings (mailbox bound, high-water mark); null for the defaults.</param>
    public ChatServer(IPEndPoint endpoint, ActorServerOptions? options = null)
    {
        ChatCodec.Warmup(); // before the listener exists: no client can come before the codec's code is loaded
        Room = new Room();
        RoomRef = Actor.Spawn(Room, mailboxCapacity: 4096);
        _server = new ActorServer<SessionMessage, string>(endpoint, () => new ChatCodec(), _ => new ChatSession(RoomRef), options);
    }

    /// <summary>The room actor (for its counters).</summary>
    public Room Room { get; }

    /// <summary>The room's address.</summary>
    public ActorRef<RoomMessage> RoomRef { get; }

    /// <summary>The server underneath (its loop, its connections' progress).</summary>
    public ActorServer<SessionMessage, string> Server => _server;

    /// <summary>Where clients connect.</summary>
    public IPEndPoint LocalEndPoint => _server.LocalEndPoint;

    /// <summary>Runs the loop on the calling thread until <see cref="Stop"/>.</summary>
    public void Run() => _server.Run();

    /// <summary>Makes <see cref="Run"/> return. Any thread.</summary>
    public void Stop() => _server.Stop();

    /// <summary>After <see cref="Run"/>: every session answers what it was sent, then its connection closes in order (see <see cref="ActorServer{TMessage,TReply}.Shutdown"/>).</summary>
    /// <param name="grace">How long the sessions get.</param>
    /// <returns><see langword="true"/> if all finished in time.</returns>
    public bool Shutdown(TimeSpan grace) => _server.Shutdown(grace);

    /// <summary>Closes every connection and the listener.</summary>
    public void Dispose()
    {
        _server.Dispose();
        RoomRef.Complete();
    }
}
