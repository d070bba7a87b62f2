using System.Runtime.InteropServices;
using Tmds.Linux;
using static Polling.Os.NativeMethods;

namespace Polling.Os;

/// <summary>
/// Linux <c>timerfd</c> on <c>CLOCK_MONOTONIC</c>: readable once the timer has expired, and a read returns
/// (and resets) the number of expirations as one 8-byte counter, like an eventfd.
/// All times are nanoseconds; the monotonic clock never jumps with the wall clock.
/// </summary>
internal static unsafe class TimerFd
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>A new non-blocking, close-on-exec, disarmed timerfd on the monotonic clock.</summary>
    public static FdHandle Create()
    {
        LinuxOnly.Check();
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0)
        {
            throw Errno.ToIOException(Errno.Last, "timerfd_create (creating a timer on CLOCK_MONOTONIC)");
        }

        return new FdHandle(fd);
    }

    /// <summary>The current value of <c>CLOCK_MONOTONIC</c>, the clock every timerfd here runs on.</summary>
    public static long Now()
    {
        timespec now;
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        {
            throw Errno.ToIOException(Errno.Last, "clock_gettime(CLOCK_MONOTONIC)");
        }

        return ((long)now.tv_sec * NanosecondsPerSecond) + (long)now.tv_nsec;
    }

    /// <summary>
    /// Arms the timer to expire after <paramref name="dueNanoseconds"/> (relative), or at that
    /// <c>CLOCK_MONOTONIC</c> time when <paramref name="absolute"/>, then every <paramref name="periodNanoseconds"/>
    /// (0: once). A due time of 0 disarms it. Setting the timer discards expirations not yet read.
    /// Returns 0 or the errno.
    /// </summary>
    public static int Set(SafeHandle handle, long dueNanoseconds, long periodNanoseconds, bool absolute)
    {
        itimerspec value;
        value.it_value = ToTimespec(dueNanoseconds);
        value.it_interval = ToTimespec(periodNanoseconds);
        return timerfd_settime(handle, absolute ? TFD_TIMER_ABSTIME : 0, &value, null) == 0 ? 0 : Errno.Last;
    }

    /// <summary>Reads the time until the next expiration (0 when disarmed) and the period (0 when one-shot). Returns 0 or the errno.</summary>
    public static int Get(SafeHandle handle, out long remainingNanoseconds, out long periodNanoseconds)
    {
        itimerspec value;
        if (timerfd_gettime(handle, &value) != 0)
        {
            remainingNanoseconds = 0;
            periodNanoseconds = 0;
            return Errno.Last;
        }

        remainingNanoseconds = FromTimespec(value.it_value);
        periodNanoseconds = FromTimespec(value.it_interval);
        return 0;
    }

    private static timespec ToTimespec(long nanoseconds)
    {
        timespec value;
        value.tv_sec = nanoseconds / NanosecondsPerSecond;
        value.tv_nsec = (long_t)(nanoseconds % NanosecondsPerSecond);
        return value;
    }

    private static long FromTimespec(timespec value) => ((long)value.tv_sec * NanosecondsPerSecond) + (long)value.tv_nsec;
}
