using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>
/// The one place where Polling and Polling.Net (through InternalsVisibleTo) declare libc functions themselves:
/// every call on a descriptor a source owns, taking the <see cref="SafeHandle"/> so that the generated marshaller
/// holds a reference for the call (a concurrent <c>Dispose</c> never lets it touch a reused number — as
/// dotnet/runtime's <c>Interop.Sys</c> does), and what Tmds.LibC 0.5 lacks or declares without
/// <c>SetLastError</c> (<c>poll</c>). All are <c>SetLastError = true</c> — read <see cref="Errno.Last"/> straight
/// after a call that failed — except the three calls of every event (<c>epoll_wait</c>, <c>recv</c>, <c>send</c>),
/// whose result is marshalled with <see cref="ErrnoOnFailure"/> instead: ≥ 0 the result, otherwise −<c>errno</c>
/// (decode it with <see cref="Errno.SettledNegated"/>). Tmds.LibC stays for descriptor creation (<c>socket</c>, <c>eventfd</c>,
/// <c>epoll_*</c>, <c>pipe2</c>), the structs and the constants.
/// </summary>
#pragma warning disable CS8981 // C names kept as the kernel spells them
internal static unsafe partial class NativeMethods
{
    private const string Libc = "libc.so.6";

    // Tmds.LibC 0.5 has neither timerfd nor clock_gettime, nor these constants.
    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_NONBLOCK = 0x800;
    public const int TFD_CLOEXEC = 0x80000;
    public const int TFD_TIMER_ABSTIME = 1;

    // Tmds.LibC 0.5 has no getrlimit either.
    public const int RLIMIT_NOFILE = 7;

    /// <summary><c>poll</c>: Tmds.LibC 0.5 declares it without <c>SetLastError</c>, so its <c>errno</c> after EINTR is stale.</summary>
    [LibraryImport(Libc, SetLastError = true, EntryPoint = "poll")]
    public static partial int poll(pollfd* fds, ulong nfds, int timeout);

    /// <summary><c>epoll_wait</c>: the number of events, or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "epoll_wait")]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    public static partial int epoll_wait(SafeHandle epfd, epoll_event* events, int maxEvents, int timeout);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "epoll_ctl")]
    public static partial int epoll_ctl(SafeHandle epfd, int op, int fd, epoll_event* ev);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "read")]
    public static partial nint read(SafeHandle fd, void* buffer, nuint count);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "write")]
    public static partial nint write(SafeHandle fd, void* buffer, nuint count);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "readv")]
    public static partial nint readv(SafeHandle fd, iovec* iov, int iovcnt);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "writev")]
    public static partial nint writev(SafeHandle fd, iovec* iov, int iovcnt);

    // recv, send and epoll_wait are in Tmds.LibC too, but its DllImports with SetLastError cannot be inlined by the
    // JIT: each call went through a separate IL stub (callgrind: ~240 instructions per echo round trip in the JIT
    // build). A [LibraryImport] generates the errno handling as C# around a blittable, inlinable DllImport
    // (JIT: 2371 -> 2306 instructions per 1x64 round trip).
    //
    // [SuppressGCTransition] on recv and send: the thread stays in cooperative mode for the call (no transition frame,
    // no GC poll on return), so a GC that starts meanwhile waits for the call to end. That is only acceptable for
    // calls that cannot block: every socket Polling hands these to is non-blocking — created with SOCK_NONBLOCK
    // (socket, socketpair, accept4) or set O_NONBLOCK when adopted (SocketCalls.SetNonBlocking), and ToSocket/ToStream,
    // which make it blocking, take the descriptor away from its Polling source. A non-blocking recv/send copies at
    // most the buffer's bytes to or from the socket buffer and returns (EAGAIN instead of waiting); a 64 KiB copy
    // takes microseconds. Never add it to epoll_wait, poll, connect, accept on a blocking descriptor, read/write of
    // descriptors Polling did not make non-blocking, or anything else that can wait. (JIT: 2306 -> 2152 instructions
    // per 1x64 round trip.)

    /// <summary><c>recv</c> on a non-blocking socket only (see above: no GC transition); the count or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "recv")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    public static partial nint recv(SafeHandle fd, void* buffer, nuint length, int flags);

    /// <summary><c>send</c> on a non-blocking socket only (see above: no GC transition); the count or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    [LibraryImport(Libc, EntryPoint = "send")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    public static partial nint send(SafeHandle fd, void* buffer, nuint length, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "recvfrom")]
    public static partial nint recvfrom(SafeHandle fd, void* buffer, nuint length, int flags, sockaddr* address, socklen_t* addressLength);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "sendto")]
    public static partial nint sendto(SafeHandle fd, void* buffer, nuint length, int flags, sockaddr* address, uint addressLength);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "recvmsg")]
    public static partial nint recvmsg(SafeHandle fd, msghdr* message, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "sendmsg")]
    public static partial nint sendmsg(SafeHandle fd, msghdr* message, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "accept4")]
    public static partial int accept4(SafeHandle fd, sockaddr* address, socklen_t* addressLength, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "connect")]
    public static partial int connect(SafeHandle fd, sockaddr* address, uint addressLength);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "bind")]
    public static partial int bind(SafeHandle fd, sockaddr* address, uint addressLength);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "listen")]
    public static partial int listen(SafeHandle fd, int backlog);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "shutdown")]
    public static partial int shutdown(SafeHandle fd, int how);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "getsockopt")]
    public static partial int getsockopt(SafeHandle fd, int level, int name, void* value, socklen_t* length);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "setsockopt")]
    public static partial int setsockopt(SafeHandle fd, int level, int name, void* value, uint length);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "getsockname")]
    public static partial int getsockname(SafeHandle fd, sockaddr* address, socklen_t* length);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "getpeername")]
    public static partial int getpeername(SafeHandle fd, sockaddr* address, socklen_t* length);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "fcntl")]
    public static partial int fcntl(SafeHandle fd, int command, int argument);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_create")]
    public static partial int timerfd_create(int clockid, int flags);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_settime")]
    public static partial int timerfd_settime(SafeHandle fd, int flags, itimerspec* newValue, itimerspec* oldValue);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "timerfd_gettime")]
    public static partial int timerfd_gettime(SafeHandle fd, itimerspec* currentValue);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "clock_gettime")]
    public static partial int clock_gettime(int clockid, timespec* time);

    [LibraryImport(Libc, SetLastError = true, EntryPoint = "getrlimit")]
    public static partial int getrlimit(int resource, rlimit* limit);

    /// <summary><c>struct rlimit</c>: the soft (<c>rlim_cur</c>) and hard (<c>rlim_max</c>) limit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }

    /// <summary><c>struct itimerspec</c> for timerfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct itimerspec
    {
        public timespec it_interval;
        public timespec it_value;
    }
}
#pragma warning restore CS8981
