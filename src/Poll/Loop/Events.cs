using System.Collections;
using System.Runtime.CompilerServices;
using Tmds.Linux;

namespace Polling;

/// <summary>
/// A reusable batch of events that <see cref="Poll.Wait"/> fills. Allocate one per loop, up front,
/// and reuse it for every wait: waiting and iterating allocate nothing.
/// </summary>
/// <remarks>
/// Not thread-safe: one loop owns it. <see cref="Poll.Wait"/> clears it before filling it; at most
/// <see cref="Capacity"/> events come back per wait, and the rest stay pending for the next one.
/// </remarks>
/// <example>
/// <code>
/// var events = new Events(1024);
/// while (running)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)   // struct enumerator: no allocation
///     {
///         switch (ev.Token) { /* case YourToken: … */ default: break; }
///     }
/// }
/// </code>
/// </example>
public sealed class Events : IEnumerable<Event>
{
    // The kernel writes straight into this array (epoll_wait), and the poll(2) backend writes the
    // same record format, so an Event is decoded on access and nothing is copied per wait.
    internal readonly epoll_event[] Buffer;
    private int _count;

    /// <summary>Creates a batch that holds up to <paramref name="capacity"/> events per wait.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public Events(int capacity)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                "An Events batch needs room for at least one event; pass a capacity of 1 or more (256 to 1024 suits most loops).");
        }

        Buffer = new epoll_event[capacity];
    }

    /// <summary>The most events one wait can return.</summary>
    public int Capacity => Buffer.Length;

    /// <summary>The number of events the last wait returned.</summary>
    public int Count => _count;

    /// <summary><see langword="true"/> when the last wait returned no events (a timeout or an interrupted wait).</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>The event at <paramref name="index"/>, which must be in <c>[0, Count)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside <c>[0, Count)</c>.</exception>
    public Event this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)_count)
            {
                ThrowIndexOutOfRange(index);
            }

            ref epoll_event raw = ref Buffer[index];
            return new Event((Token)raw.data.u64, unchecked((uint)raw.events));
        }
    }

    /// <summary>Empties the batch (<see cref="Poll.Wait"/> does this itself).</summary>
    public void Clear() => _count = 0;

    /// <summary>Returns a struct enumerator: <c>foreach</c> over an <see cref="Events"/> allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Event> IEnumerable<Event>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Sets how many entries of <see cref="Buffer"/> the backend filled.</summary>
    internal void SetCount(int count) => _count = count;

    private void ThrowIndexOutOfRange(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index,
            $"Event index {index} is outside this batch, which holds {_count} event(s); use an index in [0, Count).");

    /// <summary>Enumerates the events of one wait without allocating.</summary>
    public struct Enumerator : IEnumerator<Event>
    {
        private readonly Events _events;
        private int _index;

        internal Enumerator(Events events)
        {
            _events = events;
            _index = -1;
        }

        /// <summary>The current event.</summary>
        public readonly Event Current
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _events[_index];
        }

        readonly object IEnumerator.Current => Current;

        /// <summary>Advances to the next event.</summary>
        public bool MoveNext() => ++_index < _events._count;

        /// <summary>Starts over.</summary>
        public void Reset() => _index = -1;

        /// <summary>Does nothing.</summary>
        public readonly void Dispose()
        {
        }
    }
}
