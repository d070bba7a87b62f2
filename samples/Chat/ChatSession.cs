using Polling.Actors;

namespace Chat;

/// <summary>
/// One client's actor: it turns the commands parsed from its socket into messages to the room, and the room's
/// messages into lines for its socket. Its state (the nick) is its own; the room's membership is the room's.
/// </summary>
/// <param name="room">The room.</param>
public sealed class ChatSession(ActorRef<RoomMessage> room) : ConnectionActor<SessionMessage, string>
{
    private string? _nick;
    private bool _joining;
    private bool _left;

    /// <inheritdoc/>
    protected override async ValueTask ReceiveAsync(SessionMessage message)
    {
        switch (message)
        {
            case Nick nick when _nick is null && !_joining:
                _joining = true;
                await room.SendAsync(new Join(nick.Name, Self));
                break;
            case Nick:
                Connection.Send(_nick is null ? "ERROR a NICK is pending" : $"ERROR already joined as {_nick}");
                break;
            case Say say when _nick is not null:
                await room.SendAsync(new Broadcast(_nick, say.Text));
                break;
            case Whisper whisper when _nick is not null:
                await room.SendAsync(new Private(_nick, whisper.To, whisper.Text, Self));
                break;
            case Say or Whisper:
                Connection.Send("ERROR join first: NICK name");
                break;
            case Joined joined:
                _nick = joined.Name;
                _joining = false;
                Connection.Send($"WELCOME {joined.Name}");
                break;
            case Deliver deliver:
                if (deliver.Line.StartsWith("ERROR nick ", StringComparison.Ordinal))
                {
                    _joining = false;
                }

                Connection.Send(deliver.Line);
                break;
            case Stats:
                ConnectionProgress p = Connection.Progress;
                Connection.Send($"STATS received={p.BytesReceived} messages={p.MessagesReceived} queued={p.BytesQueued} sent={p.BytesSent} " +
                                $"pending={p.PendingBytes} mailbox={Self.MailboxCount}/{Self.MailboxCapacity} refused={Self.Refused}");
                break;
            case Invalid invalid:
                Connection.Send($"ERROR {invalid.Error}");
                break;
            case Quit:
                await LeaveAsync();
                Connection.Send("BYE");
                Connection.Close();
                break;
            case Disconnected:
                await LeaveAsync();
                break;
        }
    }

    private async ValueTask LeaveAsync()
    {
        if (_nick is not null && !_left)
        {
            _left = true;
            await room.SendAsync(new Leave(_nick));
        }
    }
}
