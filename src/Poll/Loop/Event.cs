using System.Runtime.CompilerServices;
using Polling.Os;

namespace Polling;

/// <summary>
/// One readiness event: which registration (<see cref="Token"/>) and what it is ready for.
/// Read from an <see cref="Events"/> batch after <see cref="Poll.Wait"/>; a plain value, copying it
/// allocates nothing.
/// </summary>
/// <remarks>
/// The flags follow mio on Linux. Treat them as hints: a readable event means "try to read now",
/// and the <c>Try…</c> call may still return <see langword="false"/> (spurious events are allowed).
/// <list type="bullet">
/// <item><see cref="IsReadable"/>: <c>EPOLLIN</c> or <c>EPOLLPRI</c>.</item>
/// <item><see cref="IsWritable"/>: <c>EPOLLOUT</c>.</item>
/// <item><see cref="IsError"/>: <c>EPOLLERR</c> (read the error with the source's <c>TakeError</c>).</item>
/// <item><see cref="IsReadClosed"/>: <c>EPOLLHUP</c>, or <c>EPOLLIN</c> with <c>EPOLLRDHUP</c> — the peer
/// will send nothing more (a read returns 0 once the buffered data is consumed).</item>
/// <item><see cref="IsWriteClosed"/>: <c>EPOLLHUP</c>, <c>EPOLLOUT</c> with <c>EPOLLERR</c>, or <c>EPOLLERR</c>
/// alone — writes will fail (connection refused or reset, pipe reader gone).</item>
/// <item><see cref="IsPriority"/>: <c>EPOLLPRI</c>.</item>
/// </list>
/// </remarks>
/// <example>
/// <code>
/// foreach (Event ev in events)
/// {
///     if (ev.IsReadable) { /* read until TryRead returns false */ }
///     if (ev.IsWritable) { /* write what is pending */ }
///     if (ev.IsReadClosed) Console.WriteLine($"{ev.Token}: peer finished sending");
/// }
/// </code>
/// </example>
public readonly struct Event : IEquatable<Event>
{
    private readonly Token _token;
    private readonly uint _flags;

    internal Event(Token token, uint flags)
    {
        _token = token;
        _flags = flags;
    }

    /// <summary>The token the source was registered under.</summary>
    public Token Token => _token;

    /// <summary>The source can be read (or accepted from), or the peer closed.</summary>
    public bool IsReadable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (_flags & (EpollFlags.In | EpollFlags.Pri)) != 0;
    }

    /// <summary>The source can be written, or a non-blocking connect finished.</summary>
    public bool IsWritable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (_flags & EpollFlags.Out) != 0;
    }

    /// <summary>The source has a pending error (<c>EPOLLERR</c>).</summary>
    public bool IsError => (_flags & EpollFlags.Err) != 0;

    /// <summary>The reading half is closed: the peer shut down writing, or the source hung up.</summary>
    public bool IsReadClosed
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (_flags & EpollFlags.Hup) != 0 || ((_flags & EpollFlags.In) != 0 && (_flags & EpollFlags.RdHup) != 0);
    }

    /// <summary>The writing half is closed: hung up, reset or refused, or a pipe's reader closed.</summary>
    public bool IsWriteClosed =>
        (_flags & EpollFlags.Hup) != 0
        || ((_flags & EpollFlags.Out) != 0 && (_flags & EpollFlags.Err) != 0)
        || _flags == EpollFlags.Err;

    /// <summary>Priority (out-of-band) data is available.</summary>
    public bool IsPriority
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (_flags & EpollFlags.Pri) != 0;
    }

    /// <summary>The raw kernel bits (epoll and poll(2) share them on Linux); for tests and diagnostics.</summary>
    internal uint Flags => _flags;

    /// <inheritdoc />
    public bool Equals(Event other) => _token == other._token && _flags == other._flags;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Event other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_token, _flags);

    /// <summary>Compares two events by token and flags.</summary>
    public static bool operator ==(Event left, Event right) => left.Equals(right);

    /// <summary>Compares two events by token and flags.</summary>
    public static bool operator !=(Event left, Event right) => !left.Equals(right);

    /// <summary>Returns e.g. <c>Event(Token 7: Readable, ReadClosed)</c>, for logs and test failures.</summary>
    public override string ToString()
    {
        var parts = new List<string>(6);
        if (IsReadable) parts.Add("Readable");
        if (IsWritable) parts.Add("Writable");
        if (IsError) parts.Add("Error");
        if (IsReadClosed) parts.Add("ReadClosed");
        if (IsWriteClosed) parts.Add("WriteClosed");
        if (IsPriority) parts.Add("Priority");
        return $"Event(Token {(ulong)_token}: {(parts.Count == 0 ? "none" : string.Join(", ", parts))})";
    }
}
