namespace Polling;

/// <summary>
/// The readiness a registration asks to be told about. Combine with <c>|</c>;
/// an empty interest (<c>(Interest)0</c>) is rejected with <see cref="ArgumentException"/>.
/// </summary>
/// <example>
/// <code>
/// poll.Registry.Register(stream, (Token)7, Interest.Readable | Interest.Writable);
/// </code>
/// </example>
[Flags]
public enum Interest
{
    /// <summary>Data can be read, a connection can be accepted, or the peer closed its side.</summary>
    Readable = 1,

    /// <summary>Data can be written, or a non-blocking connect completed.</summary>
    Writable = 2,

    /// <summary>Priority (out-of-band) data can be read (<c>EPOLLPRI</c>).</summary>
    Priority = 4,
}
