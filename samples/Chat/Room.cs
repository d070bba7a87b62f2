using Polling.Actors;

namespace Chat;

/// <summary>
/// The room: the one actor that knows who is here. Sessions ask it to join, broadcast, whisper and leave; it never
/// waits for a member — a member whose mailbox is full (it reads too slowly, so its session stopped taking
/// messages) is skipped, the messages it missed are counted, and it is told how many once it has room again.
/// </summary>
public sealed class Room : Actor<RoomMessage>
{
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private long _dropped;

    /// <summary>Messages not delivered to slow members, in all.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Members now (read from any thread: a snapshot).</summary>
    public int MemberCount => Volatile.Read(ref _memberCount);

    private int _memberCount;

    /// <inheritdoc/>
    protected override ValueTask ReceiveAsync(RoomMessage message)
    {
        switch (message)
        {
            case Join join:
                if (_members.ContainsKey(join.Name))
                {
                    join.Session.TrySend(new Deliver($"ERROR nick {join.Name} is taken"));
                }
                else
                {
                    _members[join.Name] = new Member(join.Session);
                    Volatile.Write(ref _memberCount, _members.Count);
                    join.Session.TrySend(new Joined(join.Name));
                }

                break;
            case Broadcast say:
                string line = $"{say.From}: {say.Text}";
                foreach ((string name, Member member) in _members)
                {
                    if (name != say.From)
                    {
                        Deliver(member, line);
                    }
                }

                break;
            case Private whisper:
                if (_members.TryGetValue(whisper.To, out Member? target))
                {
                    Deliver(target, $"{whisper.From} (private): {whisper.Text}");
                }
                else
                {
                    whisper.Sender.TrySend(new Deliver($"ERROR no such nick {whisper.To}"));
                }

                break;
            case Leave leave:
                if (_members.Remove(leave.Name))
                {
                    Volatile.Write(ref _memberCount, _members.Count);
                    string left = $"* {leave.Name} left";
                    foreach (Member member in _members.Values)
                    {
                        Deliver(member, left);
                    }
                }

                break;
        }

        return ValueTask.CompletedTask;
    }

    private void Deliver(Member member, string line)
    {
        if (member.Missed > 0)
        {
            if (!member.Session.TrySend(new Deliver($"* {member.Missed} messages dropped: you read too slowly")))
            {
                member.Missed++;
                Interlocked.Increment(ref _dropped);
                return;
            }

            member.Missed = 0;
        }

        if (!member.Session.TrySend(new Deliver(line)))
        {
            member.Missed++;
            Interlocked.Increment(ref _dropped);
        }
    }

    private sealed class Member(ActorRef<SessionMessage> session)
    {
        public ActorRef<SessionMessage> Session { get; } = session;

        public long Missed { get; set; }
    }
}
