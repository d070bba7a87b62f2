using System.Diagnostics;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>
/// The kernel's readiness bits. epoll and poll(2) share these values on Linux, so every backend
/// reports events in this one format and <see cref="Event"/> decodes it. Constants (not Tmds.LibC's properties)
/// because tests and patterns need compile-time values; a Debug build checks them against Tmds.LibC.
/// </summary>
internal static class EpollFlags
{
    public const uint In = 0x001;
    public const uint Pri = 0x002;
    public const uint Out = 0x004;
    public const uint Err = 0x008;
    public const uint Hup = 0x010;
    public const uint RdHup = 0x2000;
    public const uint Exclusive = 1u << 28;
    public const uint Oneshot = 1u << 30;
    public const uint EdgeTriggered = 1u << 31;

    /// <summary>The epoll request bits for an interest and trigger (mio's mapping).</summary>
    public static uint For(Interest interest, Trigger trigger)
    {
        uint bits = 0;
        if ((interest & Interest.Readable) != 0) bits |= In | RdHup;
        if ((interest & Interest.Writable) != 0) bits |= Out;
        if ((interest & Interest.Priority) != 0) bits |= Pri;
        if ((trigger & Trigger.Edge) != 0) bits |= EdgeTriggered;
        if ((trigger & Trigger.Oneshot) != 0) bits |= Oneshot;
        if ((trigger & Trigger.Exclusive) != 0) bits = (bits & ~RdHup) | Exclusive;   // the kernel refuses RDHUP with it
        return bits;
    }

    /// <summary>Debug builds: every value equals Tmds.LibC's.</summary>
    [Conditional("DEBUG")]
    internal static void AssertMatchesLibC()
    {
        Debug.Assert(In == LibC.EPOLLIN && Pri == LibC.EPOLLPRI && Out == LibC.EPOLLOUT && Err == LibC.EPOLLERR && Hup == LibC.EPOLLHUP);
        Debug.Assert(RdHup == LibC.EPOLLRDHUP && Exclusive == LibC.EPOLLEXCLUSIVE && Oneshot == LibC.EPOLLONESHOT);
        Debug.Assert(EdgeTriggered == unchecked((uint)LibC.EPOLLET));
    }
}
