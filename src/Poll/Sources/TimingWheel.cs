using System.Diagnostics;
using System.Numerics;

namespace Polling;

/// <summary>
/// The hierarchical timing wheel of <see cref="TimerWheel"/> as pure data and arithmetic (as tokio keeps its wheel
/// apart from the driver): six levels of 64 one-millisecond-tick slots, entries linked by index, a 64-bit occupancy
/// mask per level. Time is a tick count given by the caller, so tests drive it with simulated time; the
/// <see cref="TimerWheel"/> owns the clock, the timerfd and the registration.
/// </summary>
/// <remarks>
/// Invariants (checked by <see cref="AssertInvariants"/> in Debug builds after every change): a slot's occupancy bit
/// is set exactly when its list is non-empty; every entry in a list names that list and links back to its
/// neighbours; an entry in a level's slot is not yet due, sits in the slot its deadline selects, and at a level no
/// finer than its distance from <see cref="Elapsed"/> selects (it moves down when its slot comes due);
/// <see cref="Count"/> is the number of linked entries.
/// </remarks>
internal sealed class TimingWheel
{
    /// <summary>Ticks the wheel spans: 2^36 ms, about 795 days.</summary>
    public const long MaxTicks = 1L << (LevelBits * Levels);

    private const int LevelBits = 6;
    private const int SlotsPerLevel = 1 << LevelBits;
    private const int SlotMask = SlotsPerLevel - 1;
    private const int Levels = 6;
    private const int None = -1;

    /// <summary>The list of entries that are due but not yet handed out: one past the wheel's slots.</summary>
    private const int ExpiredList = Levels * SlotsPerLevel;

    /// <summary><see cref="Entry.List"/> of an entry that is not in use.</summary>
    private const int Unused = -1;

    /// <summary>Above this many entries the Debug check walks only what changed, not every list.</summary>
    private const int FullCheckLimit = 4096;

    private static int s_lastId;
    private readonly int _id = Interlocked.Increment(ref s_lastId);
    private readonly int[] _heads = new int[ExpiredList + 1];
    private readonly ulong[] _occupied = new ulong[Levels];
    private Entry[] _entries;
    private int _freeHead = None;
    private int _used;
    private int _count;
    private long _elapsed;

    /// <summary>An empty wheel with room for <paramref name="capacity"/> entries before it grows (by doubling).</summary>
    public TimingWheel(int capacity)
    {
        Debug.Assert(capacity >= 1, "The caller validates the capacity.");
        _entries = new Entry[capacity];
        Array.Fill(_heads, None);
    }

    /// <summary>How many timeouts are scheduled, including expired ones not yet taken.</summary>
    public int Count => _count;

    /// <summary>The tick up to which the wheel has processed time.</summary>
    public long Elapsed => _elapsed;

    /// <summary>Schedules <paramref name="token"/> for tick <paramref name="deadline"/>.</summary>
    public TimerKey Schedule(Token token, long deadline)
    {
        int index = Allocate();
        ref Entry entry = ref _entries[index];
        entry.Token = token;
        entry.Deadline = deadline;
        Insert(index);
        _count++;
        AssertInvariants(index);
        return new TimerKey(index, entry.Generation, _id);
    }

    /// <summary>Moves a live timeout to tick <paramref name="deadline"/>; <see langword="false"/> for a stale key.</summary>
    public bool Reschedule(TimerKey key, long deadline)
    {
        if (!IsLive(key))
        {
            return false;
        }

        Unlink(key.Index);
        _entries[key.Index].Deadline = deadline;
        Insert(key.Index);
        AssertInvariants(key.Index);
        return true;
    }

    /// <summary>Cancels a live timeout; <see langword="false"/> for a stale key.</summary>
    public bool Cancel(TimerKey key)
    {
        if (!IsLive(key))
        {
            return false;
        }

        Unlink(key.Index);
        Free(key.Index);
        AssertInvariants(None);
        return true;
    }

    /// <summary><see langword="true"/> if <paramref name="key"/> names a timeout that has not been taken or cancelled.</summary>
    public bool Contains(TimerKey key) => IsLive(key);

    /// <summary>
    /// Moves every timeout due at <paramref name="now"/> (never earlier than a previous call's) into
    /// <paramref name="expired"/>, earliest first, and returns how many. <paramref name="drained"/> says nothing else
    /// is due (time has moved on to <paramref name="now"/>); otherwise the buffer filled up.
    /// </summary>
    public int TakeExpired(Span<Token> expired, long now, out bool drained)
    {
        drained = false;
        int taken = 0;
        while (taken < expired.Length && _heads[ExpiredList] != None)
        {
            int index = _heads[ExpiredList];
            Unlink(index);
            expired[taken++] = _entries[index].Token;
            Free(index);
        }

        while (taken < expired.Length)
        {
            if (!NextExpiration(out long deadline, out int list) || deadline > now)
            {
                // Nothing else is due: time moves on to now, and the caller has drained the wheel.
                _elapsed = Math.Max(_elapsed, now);
                drained = true;
                break;
            }

            _elapsed = deadline;
            taken += ProcessSlot(list, expired[taken..]);
        }

        AssertInvariants(None);
        return taken;
    }

    /// <summary>The tick of the earliest slot that holds entries (<see cref="Elapsed"/> if some are already due).</summary>
    public bool TryGetNextDeadline(out long deadline) => NextExpiration(out deadline, out _);

    /// <summary>The bucket a deadline belongs in, relative to <see cref="_elapsed"/>: the level is set by the
    /// highest bit in which the two differ, so a timeout sits at the granularity of its distance.</summary>
    private static int LevelFor(long elapsed, long deadline)
    {
        ulong masked = (ulong)(elapsed ^ deadline) | SlotMask;
        if (masked >= MaxTicks)
        {
            masked = MaxTicks - 1;
        }

        int significant = 63 - BitOperations.LeadingZeroCount(masked);
        return significant / LevelBits;
    }

    /// <summary>
    /// Finds the next slot that holds entries: the first level (finest first) with any occupied slot gives the
    /// earliest time, since everything in a coarser level lies beyond the finer level's span.
    /// </summary>
    private bool NextExpiration(out long deadline, out int list)
    {
        if (_heads[ExpiredList] != None)
        {
            deadline = _elapsed;
            list = ExpiredList;
            return true;
        }

        for (int level = 0; level < Levels; level++)
        {
            ulong occupied = _occupied[level];
            if (occupied == 0)
            {
                continue;
            }

            // Search from the slot after the current one: below the top level an entry never sits in the
            // current slot (it would belong to a finer level), and at the top level the current slot can only
            // hold entries for the next turn of the wheel, so it comes last.
            int shift = level * LevelBits;
            int first = (int)((_elapsed >> shift) + 1) & SlotMask;
            int slot = (BitOperations.TrailingZeroCount(BitOperations.RotateRight(occupied, first)) + first) & SlotMask;
            long levelRange = 1L << (shift + LevelBits);
            deadline = (_elapsed & ~(levelRange - 1)) + ((long)slot << shift);
            if (deadline <= _elapsed)
            {
                // Only the top level wraps around: this slot lies in the next turn.
                deadline += levelRange;
            }

            list = (level * SlotsPerLevel) + slot;
            return true;
        }

        deadline = 0;
        list = None;
        return false;
    }

    /// <summary>
    /// Empties one slot at time <see cref="_elapsed"/>: due entries go to <paramref name="expired"/> (or, when it
    /// is full, to the expired list), the rest move down to the level that now matches their distance.
    /// </summary>
    private int ProcessSlot(int list, Span<Token> expired)
    {
        int taken = 0;
        int index = _heads[list];
        _heads[list] = None;
        if (list != ExpiredList)
        {
            _occupied[list / SlotsPerLevel] &= ~(1UL << (list & SlotMask));
        }

        while (index != None)
        {
            int next = _entries[index].Next;
            if (_entries[index].Deadline <= _elapsed && taken < expired.Length)
            {
                expired[taken++] = _entries[index].Token;
                Free(index);
            }
            else
            {
                Insert(index);
            }

            index = next;
        }

        return taken;
    }

    /// <summary>Links an entry into the slot for its deadline, or into the expired list when it is due.</summary>
    private void Insert(int index)
    {
        ref Entry entry = ref _entries[index];
        int list;
        if (entry.Deadline <= _elapsed)
        {
            list = ExpiredList;
        }
        else
        {
            int level = LevelFor(_elapsed, entry.Deadline);
            int slot = (int)((entry.Deadline >> (level * LevelBits)) & SlotMask);
            list = (level * SlotsPerLevel) + slot;
            _occupied[level] |= 1UL << slot;
        }

        entry.List = list;
        entry.Prev = None;
        entry.Next = _heads[list];
        if (entry.Next != None)
        {
            _entries[entry.Next].Prev = index;
        }

        _heads[list] = index;
    }

    private void Unlink(int index)
    {
        ref Entry entry = ref _entries[index];
        if (entry.Prev != None)
        {
            _entries[entry.Prev].Next = entry.Next;
        }
        else
        {
            _heads[entry.List] = entry.Next;
            if (entry.Next == None && entry.List != ExpiredList)
            {
                _occupied[entry.List / SlotsPerLevel] &= ~(1UL << (entry.List & SlotMask));
            }
        }

        if (entry.Next != None)
        {
            _entries[entry.Next].Prev = entry.Prev;
        }
    }

    private int Allocate()
    {
        if (_freeHead == None)
        {
            if (_used == _entries.Length)
            {
                Array.Resize(ref _entries, _entries.Length * 2);
            }

            int fresh = _used++;
            _entries[fresh].Generation = 1;
            return fresh;
        }

        int index = _freeHead;
        _freeHead = _entries[index].Next;
        return index;
    }

    private void Free(int index)
    {
        ref Entry entry = ref _entries[index];
        entry.List = Unused;
        entry.Token = default;

        // A new generation makes every key for the old use stale; 0 is kept for default(TimerKey).
        entry.Generation = entry.Generation == int.MaxValue ? 1 : entry.Generation + 1;
        entry.Next = _freeHead;
        _freeHead = index;
        _count--;
    }

    private bool IsLive(TimerKey key)
    {
        if (key.Wheel != _id && key.Generation != 0)
        {
            throw new ArgumentException(
                $"{key} was made by another TimerWheel; pass each key only to the wheel whose Schedule returned it.", nameof(key));
        }

        return key.Generation != 0
            && (uint)key.Index < (uint)_used
            && _entries[key.Index].Generation == key.Generation
            && _entries[key.Index].List != Unused;
    }

    /// <summary>
    /// Debug builds: the invariants in the remarks. Every list is walked while the wheel holds at most
    /// <see cref="FullCheckLimit"/> entries; above that only <paramref name="changed"/> (an entry index, or
    /// <see cref="None"/>) and the counts are checked, so large Debug test runs stay linear.
    /// </summary>
    [Conditional("DEBUG")]
    private void AssertInvariants(int changed)
    {
        Debug.Assert(_count >= 0 && _count <= _used && _used <= _entries.Length, "Count within the entries in use");
        if (changed != None)
        {
            AssertPlaced(changed);
        }

        if (_count > FullCheckLimit)
        {
            return;
        }

        int linked = 0;
        for (int list = 0; list <= ExpiredList; list++)
        {
            bool occupied = list == ExpiredList || (_occupied[list / SlotsPerLevel] & (1UL << (list & SlotMask))) != 0;
            Debug.Assert(list == ExpiredList || occupied == (_heads[list] != None), $"occupancy bit of list {list} matches its list");
            int previous = None;
            for (int index = _heads[list]; index != None; index = _entries[index].Next)
            {
                Debug.Assert(_entries[index].List == list && _entries[index].Prev == previous, $"entry {index} is linked into list {list}");
                AssertPlaced(index);
                previous = index;
                linked++;
            }
        }

        Debug.Assert(linked == _count, $"{linked} linked entries, {_count} counted");
    }

    /// <summary>An entry in a level's slot is not due yet, in its deadline's slot, at a level its distance allows.</summary>
    private void AssertPlaced(int index)
    {
        ref Entry entry = ref _entries[index];
        if (entry.List == ExpiredList || entry.List == Unused)
        {
            return;
        }

        int level = entry.List / SlotsPerLevel;
        Debug.Assert(entry.Deadline > _elapsed, $"entry {index} in a slot is not due yet");
        Debug.Assert(level >= LevelFor(_elapsed, entry.Deadline), $"entry {index} sits no finer than its distance allows");
        Debug.Assert((entry.List & SlotMask) == (int)((entry.Deadline >> (level * LevelBits)) & SlotMask), $"entry {index} sits in its slot");
    }

    /// <summary>One timeout; linked into one slot's list (or the free list) by index, so entries are not objects.</summary>
    private struct Entry
    {
        public Token Token;
        public long Deadline;
        public int Next;
        public int Prev;
        public int Generation;
        public int List;
    }
}
