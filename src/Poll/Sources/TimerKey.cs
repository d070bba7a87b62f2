namespace Polling;

/// <summary>
/// Identifies one timeout scheduled in a <see cref="TimerWheel"/>, for <see cref="TimerWheel.Reschedule"/>
/// and <see cref="TimerWheel.Cancel"/>. A plain value: keep it in your connection state. It goes stale when
/// the timeout expires (is handed back by <see cref="TimerWheel.TakeExpired"/>) or is cancelled; stale keys
/// and <c>default</c> are recognised and rejected, so keeping one around is safe. A key belongs to the wheel that
/// made it: passing it to another wheel throws <see cref="ArgumentException"/> (it could name an unrelated timeout there).
/// </summary>
/// <example>
/// <code>
/// var conn = (Token: (Token)7, IdleTimeout: default(TimerKey));
/// conn.IdleTimeout = wheel.Schedule(conn.Token, TimeSpan.FromSeconds(30));
/// // on every read from the connection:
/// if (!wheel.Reschedule(conn.IdleTimeout, TimeSpan.FromSeconds(30)))
///     conn.IdleTimeout = wheel.Schedule(conn.Token, TimeSpan.FromSeconds(30));
/// // when the connection closes:
/// wheel.Cancel(conn.IdleTimeout);
/// </code>
/// </example>
public readonly struct TimerKey : IEquatable<TimerKey>
{
    internal TimerKey(int index, int generation, int wheel)
    {
        Index = index;
        Generation = generation;
        Wheel = wheel;
    }

    /// <summary>Which <see cref="TimerWheel"/> handed the key out (never 0), so a key used on another wheel is refused.</summary>
    internal int Wheel { get; }

    /// <summary>The entry's slot in the wheel's storage.</summary>
    internal int Index { get; }

    /// <summary>Which use of that slot; never 0 for a key the wheel handed out, so <c>default</c> is never valid.</summary>
    internal int Generation { get; }

    /// <summary>Compares two keys.</summary>
    public static bool operator ==(TimerKey left, TimerKey right) => left.Equals(right);

    /// <summary>Compares two keys.</summary>
    public static bool operator !=(TimerKey left, TimerKey right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(TimerKey other) => Index == other.Index && Generation == other.Generation && Wheel == other.Wheel;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is TimerKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Index, Generation, Wheel);

    /// <summary>Returns e.g. <c>TimerKey(3#7)</c>, or <c>TimerKey(none)</c> for <c>default</c>.</summary>
    public override string ToString() => Generation == 0 ? "TimerKey(none)" : $"TimerKey({Index}#{Generation})";
}
