using Polling.Actors;

namespace Chat;

/// <summary>What a chat session actor receives: commands parsed from its socket, and messages from the room.</summary>
public abstract record SessionMessage;

/// <summary><c>NICK name</c>: join under this name.</summary>
public sealed record Nick(string Name) : SessionMessage;

/// <summary><c>MSG text</c>: say something to everyone else.</summary>
public sealed record Say(string Text) : SessionMessage;

/// <summary><c>PRIVMSG nick text</c>: say something to one.</summary>
public sealed record Whisper(string To, string Text) : SessionMessage;

/// <summary><c>QUIT</c>: leave.</summary>
public sealed record Quit : SessionMessage;

/// <summary><c>STATS</c>: report this connection's delivery progress.</summary>
public sealed record Stats : SessionMessage;

/// <summary>A line the protocol does not accept (unknown command, missing argument, too long).</summary>
public sealed record Invalid(string Error) : SessionMessage;

/// <summary>The socket is closed: the last message.</summary>
public sealed record Disconnected(DisconnectReason Reason) : SessionMessage;

/// <summary>From the room: a line to write to the client.</summary>
public sealed record Deliver(string Line) : SessionMessage;

/// <summary>From the room: the join succeeded.</summary>
public sealed record Joined(string Name) : SessionMessage;

/// <summary>What the room actor receives.</summary>
public abstract record RoomMessage;

/// <summary>A session wants to join as <paramref name="Name"/>.</summary>
public sealed record Join(string Name, ActorRef<SessionMessage> Session) : RoomMessage;

/// <summary>A member says something to all others.</summary>
public sealed record Broadcast(string From, string Text) : RoomMessage;

/// <summary>A member says something to one other.</summary>
public sealed record Private(string From, string To, string Text, ActorRef<SessionMessage> Sender) : RoomMessage;

/// <summary>A member leaves.</summary>
public sealed record Leave(string Name) : RoomMessage;
