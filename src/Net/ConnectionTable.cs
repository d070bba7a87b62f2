using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Polling.Net;

/// <summary>
/// A slab of connections indexed by <see cref="Token"/>: <see cref="Add"/> stores a connection in a free slot
/// and returns the token to register it under; an event's token finds it again with <see cref="TryGet"/> in
/// O(1); <see cref="Remove(Token)"/> frees the slot for the next connection. No allocation once the table has grown to
/// the working set (it doubles when full).
/// </summary>
/// <remarks>
/// <para><b>Late events are not misdelivered.</b> A token carries the slot and a generation that changes every
/// time the slot is freed. If a connection is closed while handling one event and a later event of the same
/// <see cref="Events"/> batch (or a timeout taken from a <see cref="TimerWheel"/>) still names it, that token no
/// longer matches — even if a new connection accepted meanwhile took the same slot: <see cref="TryGet"/> returns
/// <see langword="false"/> and the new occupant never sees its predecessor's event.</para>
/// <para><b>Reserved tokens.</b> Every token the table hands out is at least <see cref="FirstToken"/>, so the
/// tokens below it are yours for listeners, wakers, timers and signals, and a <c>switch (ev.Token)</c> can list
/// them as cases and send everything else (<c>default:</c>) to the table. A token below
/// <see cref="FirstToken"/> simply is not found.</para>
/// <para><b>Layout.</b> token = <see cref="FirstToken"/> + (generation &lt;&lt; 32 | slot), generation 31 bits
/// (it wraps after 2^31 reuses of one slot). Not thread-safe: the loop thread owns it.</para>
/// </remarks>
/// <typeparam name="T">The per-connection state (a class: the table stores references).</typeparam>
/// <example>
/// <code>
/// const Token Listener = (Token)0, AcceptRetry = (Token)1, Timeouts = (Token)2;
/// var connections = new ConnectionTable&lt;Connection&gt;(firstToken: (Token)16);
///
/// // accept:   Token token = connections.Add(connection);
/// //           poll.Registry.Register(connection.Stream, token, Interest.Readable);
/// switch (ev.Token)
/// {
///     case Listener or AcceptRetry: /* accept */ break;
///     case Timeouts: /* expire */ break;
///     default:
///         if (!connections.TryGet(ev.Token, out Connection? c)) break;   // closed earlier in this batch
///         // ... on close:
///         connections.Remove(ev.Token);
///         c.Stream.Dispose();
///         break;
/// }
///
/// sealed record Connection(TcpStream Stream);
/// </code>
/// </example>
public sealed class ConnectionTable<T> : IEnumerable<KeyValuePair<Token, T>>
    where T : class
{
    private const int SlotBits = 32;
    private const ulong SlotMask = (1UL << SlotBits) - 1;
    private const uint GenerationMask = int.MaxValue;
    private const int MaxCapacity = 1 << 30;
    private const int None = -1;

    private Slot[] _slots; // one array of structs: an event's lookup reads one cache line, not one per array
    private int _freeHead = None;
    private int _used;
    private int _count;

    /// <summary>Creates an empty table whose tokens start at <paramref name="firstToken"/>.</summary>
    /// <param name="firstToken">The lowest token the table hands out; the tokens below it are reserved for your other sources. At most 2^62.</param>
    /// <param name="capacity">Slots to allocate up front (e.g. the expected number of connections); 1 to 2^30. The table doubles when full.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public ConnectionTable(Token firstToken, int capacity = 64)
    {
        if ((ulong)firstToken > (1UL << 62))
        {
            throw new ArgumentOutOfRangeException(nameof(firstToken), (ulong)firstToken,
                "A ConnectionTable's first token must be at most 2^62 so that slot and generation fit above it; reserve a few small tokens (e.g. 0..15) and start the table at 16.");
        }

        if (capacity is < 1 or > MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                "A ConnectionTable's capacity must be between 1 and 2^30 slots; it doubles when full, so start with the expected connection count.");
        }

        FirstToken = firstToken;
        _slots = new Slot[capacity];
    }

    /// <summary>The lowest token the table hands out (the tokens below it are reserved for other sources).</summary>
    public Token FirstToken { get; }

    /// <summary>How many connections the table holds.</summary>
    public int Count => _count;

    /// <summary>How many slots are allocated (the table doubles when they are all taken).</summary>
    public int Capacity => _slots.Length;

    /// <summary>Stores <paramref name="connection"/> in a free slot and returns its token (register the connection's stream under it).</summary>
    /// <param name="connection">The connection state; not null.</param>
    /// <returns>A token, at least <see cref="FirstToken"/>, that finds <paramref name="connection"/> until it is removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The table holds 2^30 connections already.</exception>
    public Token Add(T connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        int slot = _freeHead;
        if (slot != None)
        {
            _freeHead = _slots[slot].NextFree;
        }
        else
        {
            if (_used == _slots.Length)
            {
                Grow();
            }

            slot = _used++;
        }

        _slots[slot].Item = connection;
        _count++;
        return TokenOf(slot);
    }

    /// <summary>
    /// Finds the connection a token names; <see langword="false"/> for a token the table did not hand out, a
    /// reserved token below <see cref="FirstToken"/>, or one whose connection was removed (even if its slot holds
    /// a new connection now).
    /// </summary>
    /// <param name="token">An event's token, or an expired timeout's.</param>
    /// <param name="connection">The connection, when found.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // inlined, the out store needs no GC write barrier
    public bool TryGet(Token token, [MaybeNullWhen(false)] out T connection)
    {
        if (TryDecode(token, out int slot))
        {
            connection = _slots[slot].Item!;
            return true;
        }

        connection = null;
        return false;
    }

    /// <summary><see langword="true"/> if <paramref name="token"/> names a connection in the table now.</summary>
    /// <param name="token">A token.</param>
    public bool Contains(Token token) => TryDecode(token, out _);

    /// <summary>The connection <paramref name="token"/> names.</summary>
    /// <param name="token">A token the table handed out.</param>
    /// <exception cref="KeyNotFoundException">The token names no connection (removed, reserved or never issued); use <see cref="TryGet"/> for event tokens.</exception>
    public T this[Token token] => TryGet(token, out T? connection)
        ? connection
        : throw new KeyNotFoundException($"Token {(ulong)token} names no connection in this table: it was removed, is below FirstToken ({(ulong)FirstToken}) or was never handed out. Use TryGet for tokens from events.");

    /// <summary>Removes the connection <paramref name="token"/> names; the token (and every copy of it) goes stale at once.</summary>
    /// <param name="token">The connection's token.</param>
    /// <returns><see langword="false"/> if it named no connection (already removed, or never issued).</returns>
    public bool Remove(Token token) => Remove(token, out _);

    /// <summary>Removes the connection <paramref name="token"/> names and returns it (to dispose its stream, or to pool it).</summary>
    /// <param name="token">The connection's token.</param>
    /// <param name="connection">The removed connection.</param>
    /// <returns><see langword="false"/> if it named no connection.</returns>
    public bool Remove(Token token, [MaybeNullWhen(false)] out T connection)
    {
        if (!TryDecode(token, out int slot))
        {
            connection = null;
            return false;
        }

        ref Slot entry = ref _slots[slot];
        connection = entry.Item!;
        entry.Item = null;
        entry.Generation = (entry.Generation + 1) & GenerationMask;
        entry.NextFree = _freeHead;
        _freeHead = slot;
        _count--;
        return true;
    }

    /// <summary>
    /// Enumerates the connections with their tokens, in slot order, without allocating. Removing the current (or
    /// any) connection while enumerating is allowed — e.g. to close everything at shutdown; a connection added
    /// meanwhile may or may not be visited.
    /// </summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<Token, T>> IEnumerable<KeyValuePair<Token, T>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Token TokenOf(int slot) => (Token)((ulong)FirstToken + (((ulong)_slots[slot].Generation << SlotBits) | (uint)slot));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryDecode(Token token, out int slot)
    {
        ulong value = (ulong)token - (ulong)FirstToken;
        slot = (int)(value & SlotMask);
        return (ulong)token >= (ulong)FirstToken
            && (uint)slot < (uint)_used
            && _slots[slot].Generation == (uint)(value >> SlotBits)
            && _slots[slot].Item is not null;
    }

    private void Grow()
    {
        if (_slots.Length >= MaxCapacity)
        {
            throw new InvalidOperationException($"A ConnectionTable holds at most {MaxCapacity} connections; close some before adding more.");
        }

        int capacity = Math.Min(MaxCapacity, _slots.Length * 2);
        Array.Resize(ref _slots, capacity);
    }

    /// <summary>The allocation-free enumerator of a <see cref="ConnectionTable{T}"/>.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<Token, T>>
    {
        private readonly ConnectionTable<T> _table;
        private int _slot;

        internal Enumerator(ConnectionTable<T> table)
        {
            _table = table;
            _slot = -1;
        }

        /// <summary>The current connection and its token.</summary>
        public readonly KeyValuePair<Token, T> Current => new(_table.TokenOf(_slot), _table._slots[_slot].Item!);

        readonly object IEnumerator.Current => Current;

        /// <summary>Moves to the next occupied slot.</summary>
        public bool MoveNext()
        {
            while (++_slot < _table._used)
            {
                if (_table._slots[_slot].Item is not null)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Starts over.</summary>
        public void Reset() => _slot = -1;

        /// <summary>Nothing to release.</summary>
        public readonly void Dispose()
        {
        }
    }

    /// <summary>A connection (null while free), the generation its token carries, and the next free slot while free.</summary>
    private struct Slot
    {
        public T? Item;
        public uint Generation;
        public int NextFree;
    }
}
