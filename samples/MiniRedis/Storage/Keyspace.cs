using Polling;

namespace MiniRedis.Storage;

/// <summary>
/// The database: keys (byte arrays, found by span without copying) mapped to <see cref="Entry"/> values, with
/// expiry exact to the millisecond. An expired key is gone the moment it is looked at (lazy expiry, as redis's
/// <c>expireIfNeeded</c>: a key whose time is <c>t</c> is alive at <c>t</c> and gone after it), and an optional
/// <see cref="TimerWheel"/> removes expired keys nobody looks at (<see cref="SweepExpired"/>): every key with an
/// expiry has one timeout on the wheel, moved when the expiry changes and cancelled when the key goes.
/// </summary>
/// <example>
/// <code>
/// using var wheel = new TimerWheel();
/// poll.Registry.Register(wheel, SweepToken, Interest.Readable);
/// var keyspace = new Keyspace(Clock.Monotonic, wheel);
/// Entry entry = keyspace.GetOrAdd("session"u8, out _);
/// entry.SetString("v"u8);
/// keyspace.SetExpiry(entry, keyspace.Now + 1500);
/// // in the loop: case SweepToken: keyspace.SweepExpired(); break;
/// </code>
/// </example>
public sealed class Keyspace
{
    private readonly Clock _clock;
    private readonly TimerWheel? _wheel;
    private readonly Dictionary<byte[], Entry> _entries = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private readonly Token[] _expired = new Token[64];
    private Entry?[] _expiring = new Entry?[16];
    private readonly Stack<int> _freeExpirySlots = new();
    private int _expiringUsed;

    /// <summary>Creates an empty keyspace on <paramref name="clock"/>; with a <paramref name="wheel"/>, expired keys are also swept.</summary>
    public Keyspace(Clock clock, TimerWheel? wheel = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _wheel = wheel;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Now, in the milliseconds of the keyspace's clock.</summary>
    public long Now => _clock.NowMilliseconds;

    /// <summary>Keys held, including expired ones not yet looked at or swept (as redis's <c>DBSIZE</c>).</summary>
    public int Count => _entries.Count;

    /// <summary>Keys with an expiry.</summary>
    public int ExpiringCount => _expiringUsed - _freeExpirySlots.Count;

    /// <summary>The live entry for <paramref name="key"/>, or <see langword="null"/>; an expired one is removed first.</summary>
    public Entry? Find(ReadOnlySpan<byte> key)
    {
        if (!_bySpan.TryGetValue(key, out Entry? entry))
        {
            return null;
        }

        if (entry.HasExpiry && entry.ExpiresAt < _clock.NowMilliseconds)
        {
            Remove(entry);
            return null;
        }

        return entry;
    }

    /// <summary>The live entry for <paramref name="key"/>, or a new one (an empty string without expiry).</summary>
    public Entry GetOrAdd(ReadOnlySpan<byte> key, out bool added)
    {
        Entry? entry = Find(key);
        added = entry is null;
        if (entry is null)
        {
            byte[] copy = key.ToArray();
            entry = new Entry(copy);
            _entries.Add(copy, entry);
        }

        return entry;
    }

    /// <summary>Removes <paramref name="key"/>; false if it was not there (or had expired).</summary>
    public bool Remove(ReadOnlySpan<byte> key)
    {
        Entry? entry = Find(key);
        if (entry is null)
        {
            return false;
        }

        Remove(entry);
        return true;
    }

    /// <summary>Removes <paramref name="entry"/> and its timeout.</summary>
    public void Remove(Entry entry)
    {
        ClearExpiry(entry);
        _entries.Remove(entry.Key);
    }

    /// <summary>Makes <paramref name="entry"/> expire after <paramref name="expiresAt"/> (clock milliseconds).</summary>
    public void SetExpiry(Entry entry, long expiresAt)
    {
        if (expiresAt == long.MaxValue)
        {
            ClearExpiry(entry);
            return;
        }

        if (entry.ExpirySlot < 0)
        {
            int slot = _freeExpirySlots.Count > 0 ? _freeExpirySlots.Pop() : _expiringUsed++;
            if (slot == _expiring.Length)
            {
                Array.Resize(ref _expiring, slot * 2);
            }

            _expiring[slot] = entry;
            entry.ExpirySlot = slot;
        }

        entry.ExpiresAt = expiresAt;
        ScheduleSweep(entry);
    }

    /// <summary>Removes <paramref name="entry"/>'s expiry (redis's <c>PERSIST</c>; also what a plain SET does).</summary>
    public void ClearExpiry(Entry entry)
    {
        entry.ExpiresAt = long.MaxValue;
        if (entry.ExpirySlot < 0)
        {
            return;
        }

        _wheel?.Cancel(entry.Timer);
        entry.Timer = default;
        _expiring[entry.ExpirySlot] = null;
        _freeExpirySlots.Push(entry.ExpirySlot);
        entry.ExpirySlot = -1;
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        for (int slot = 0; slot < _expiringUsed; slot++)
        {
            if (_expiring[slot] is { } entry)
            {
                ClearExpiry(entry);
            }
        }

        _entries.Clear();
    }

    /// <summary>Adds the live keys that match the glob <paramref name="pattern"/> to <paramref name="keys"/> (KEYS).</summary>
    public void CollectKeys(ReadOnlySpan<byte> pattern, List<byte[]> keys)
    {
        long now = _clock.NowMilliseconds;
        bool all = pattern.SequenceEqual("*"u8);
        foreach (Entry entry in _entries.Values)
        {
            if (entry.ExpiresAt >= now && (all || Glob.IsMatch(pattern, entry.Key)))
            {
                keys.Add(entry.Key);
            }
        }
    }

    /// <summary>
    /// Removes the keys whose timeouts the wheel says are due and that have expired by the clock (a timeout due
    /// early by the clock is moved, not acted on). Call when the wheel's event arrives. Returns the keys removed.
    /// </summary>
    public int SweepExpired()
    {
        if (_wheel is null)
        {
            return 0;
        }

        int removed = 0;
        int taken;
        do
        {
            taken = _wheel.TakeExpired(_expired);
            long now = _clock.NowMilliseconds;
            for (int i = 0; i < taken; i++)
            {
                int slot = (int)(ulong)_expired[i];
                if (slot >= _expiringUsed || _expiring[slot] is not { } entry)
                {
                    continue;
                }

                entry.Timer = default;   // taken: the key is stale now
                if (entry.ExpiresAt < now)
                {
                    Remove(entry);
                    removed++;
                }
                else
                {
                    ScheduleSweep(entry);
                }
            }
        }
        while (taken == _expired.Length);

        return removed;
    }

    private void ScheduleSweep(Entry entry)
    {
        if (_wheel is null)
        {
            return;
        }

        // Expired once now > ExpiresAt: the first millisecond after it. Far expiries wait at the wheel's limit
        // and are moved on from there.
        long delayMs = entry.ExpiresAt - _clock.NowMilliseconds + 1;
        TimeSpan delay = delayMs <= 0 ? TimeSpan.Zero
            : delayMs >= (long)TimerWheel.MaxDelay.TotalMilliseconds ? TimerWheel.MaxDelay
            : TimeSpan.FromMilliseconds(delayMs);
        if (!_wheel.Reschedule(entry.Timer, delay))
        {
            entry.Timer = _wheel.Schedule((Token)(ulong)entry.ExpirySlot, delay);
        }
    }
}
