using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>
/// The one place where Polling declares the libc functions that Tmds.LibC 0.5 lacks. Like Tmds.LibC's
/// (which are <c>SetLastError = true</c>, and whose <c>LibC.errno</c> reads the last P/Invoke error), these
/// save errno after every call: read <see cref="Errno.Last"/> straight after a call that failed. Without
/// <c>SetLastError</c>, <see cref="Errno.Last"/> would return a stale value from an earlier call.
/// Polling.Net uses them too (InternalsVisibleTo), so there is no second list.
/// </summary>
#pragma warning disable CS8981 // C names kept as the kernel spells them
internal static unsafe partial class NativeMethods
{
    private const string Libc = "libc.so.6";

    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_NONBLOCK = 0x800;
    public const int TFD_CLOEXEC = 0x80000;
    public const int TFD_TIMER_ABSTIME = 1;

    /// <summary><c>poll</c>: Tmds.LibC 0.5 declares it without <c>SetLastError</c>, so its <c>errno</c> after EINTR is stale.</summary>
    [LibraryImport(Libc, SetLastError = true, EntryPoint = "poll")]
    public static partial int poll(pollfd* fds, ulong nfds, int timeout);

    // recv, send and epoll_wait are in Tmds.LibC too, but its DllImports with SetLastError cannot be inlined by the
    // JIT: each call went through a separate IL stub (callgrind: ~240 instructions per echo round trip in the JIT
    // build). A [LibraryImport] generates the errno handling as C# around a blittable, inlinable DllImport
    // (JIT: 2371 -> 2306 instructions per 1x64 round trip).

    // [SuppressGCTransition] on recv and send: the thread stays in cooperative mode for the call (no transition frame,
    // no GC poll on return), so a GC that starts meanwhile waits for the call to end. That is only acceptable for
    // calls that cannot block: every socket Polling hands these to is non-blocking — created with SOCK_NONBLOCK
    // (socket, socketpair, accept4) or set O_NONBLOCK when adopted (SocketCalls.SetNonBlocking), and ToSocket/ToStream,
    // which make it blocking, take the descriptor away from its Polling source. A non-blocking recv/send copies at
    // most the buffer's bytes to or from the socket buffer and returns (EAGAIN instead of waiting); a 64 KiB copy
    // takes microseconds. Never add it to epoll_wait, poll, connect, accept on a blocking descriptor, read/write of
    // descriptors Polling did not make non-blocking, or anything else that can wait. (JIT: 2306 -> 2152 instructions
    // per 1x64 round trip.)

    /// <summary><c>recv</c> on a non-blocking socket only (see above: no GC transition).</summary>
    [LibraryImport(Libc, SetLastError = true, EntryPoint = "recv")]
    [SuppressGCTransition]
    public static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    /// <summary><c>send</c> on a non-blocking socket only (see above: no GC transition).</summary>
    [LibraryImport(Libc, SetLastError = true, EntryPoint = "send")]
    [SuppressGCTransition]
    public static partial nint send(int fd, byte* buffer, nuint length, int flags);

    /// <summary><c>epoll_wait</c>: blocks, so it keeps the full GC transition.</summary>
    [LibraryImport(Libc, SetLastError = true, EntryPoint = "epoll_wait")]
    public static partial int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "readv")]
    public static partial nint readv(int fd, iovec* iov, int iovcnt);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "writev")]
    public static partial nint writev(int fd, iovec* iov, int iovcnt);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_create")]
    public static partial int timerfd_create(int clockid, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_settime")]
    public static partial int timerfd_settime(int fd, int flags, itimerspec* newValue, itimerspec* oldValue);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_gettime")]
    public static partial int timerfd_gettime(int fd, itimerspec* currentValue);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "clock_gettime")]
    public static partial int clock_gettime(int clockid, timespec* time);

    /// <summary><c>struct itimerspec</c> for timerfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct itimerspec
    {
        public timespec it_interval;
        public timespec it_value;
    }
}
#pragma warning restore CS8981
