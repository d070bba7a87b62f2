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

    // recv, send and epoll_wait without glibc's cancellation-point wrapper, on x86-64. glibc's recv(fd, buf, len, flags)
    // is the recvfrom system call with no address (send: sendto; epoll_wait: epoll_wait), made a pthread cancellation
    // point: in a process with more than one thread — every .NET process — it switches asynchronous cancellation on and
    // off around the call (__pthread_enable/disable_asynccancel, ~31 instructions per call). .NET never cancels a thread
    // with pthread_cancel (it would unwind through managed frames; the runtime does not support it), so that
    // bookkeeping buys nothing here. libc's syscall() makes the same system call without it: on x86-64 glibc it is a few
    // lines of assembly (sysdeps/unix/sysv/linux/x86_64/syscall.S) that move the arguments into the kernel's registers,
    // make the call, and turn -4095..-1 into errno and -1 — the errno contract of recv, send and epoll_wait, so
    // ErrnoOnFailure applies unchanged (epoll_wait keeps its GC transition: it blocks). syscall() is variadic in C; the
    // x86-64 System V ABI passes integer arguments to a variadic function exactly as to a fixed one (only %al, the count
    // of vector registers, differs, and only a callee that reads floating-point variadic arguments looks at it — this
    // assembly does not). The kernel sees the same recvfrom, sendto and epoll_wait calls as before (strace, seccomp);
    // what no longer sees them is a library that interposes libc's recv, send and epoll_wait (LD_PRELOAD). Other architectures keep libc's functions (the arm64 numbers and ABI would do too, but
    // that is not measured or tested here). RuntimeInformation.ProcessArchitecture is a constant of the runtime build,
    // so the JIT and NativeAOT keep only one branch. (callgrind, 1x64 round trip: see the commit.)
    private const nint SYS_sendto_x64 = 44;
    private const nint SYS_recvfrom_x64 = 45;
    private const nint SYS_epoll_wait_x64 = 232;

    /// <summary><c>epoll_wait</c> (see above): the number of events, or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    public static int epoll_wait(SafeHandle epfd, epoll_event* events, int maxEvents, int timeout) =>
        RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? (int)syscall_epoll_wait(SYS_epoll_wait_x64, epfd, events, maxEvents, timeout, 0, 0)
            : libc_epoll_wait(epfd, events, maxEvents, timeout);

    /// <summary><c>recv</c> on a non-blocking socket only (see above: no GC transition); the count or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    public static nint recv(SafeHandle fd, void* buffer, nuint length, int flags) =>
        RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? syscall_recvfrom(SYS_recvfrom_x64, fd, buffer, length, flags, 0, 0)
            : libc_recv(fd, buffer, length, flags);

    /// <summary><c>send</c> on a non-blocking socket only (see above: no GC transition); the count or −<c>errno</c> (<see cref="ErrnoOnFailure"/>).</summary>
    public static nint send(SafeHandle fd, void* buffer, nuint length, int flags) =>
        RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? syscall_sendto(SYS_sendto_x64, fd, buffer, length, flags, 0, 0)
            : libc_send(fd, buffer, length, flags);

    // One import of syscall() per system call, so that a profile (bench/perf/count-instructions.sh) can tell
    // receives from sends by the caller.

    /// <summary>libc's <c>syscall(SYS_recvfrom, …)</c> on x86-64 (see above): the descriptor, a buffer, its length, the flags and no address.</summary>
    [LibraryImport(Libc, EntryPoint = "syscall")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial nint syscall_recvfrom(nint number, SafeHandle fd, void* buffer, nuint length, nint flags, nint address, nint addressLength);

    /// <summary>libc's <c>syscall(SYS_sendto, …)</c> on x86-64 (see above): the descriptor, a buffer, its length, the flags and no address.</summary>
    [LibraryImport(Libc, EntryPoint = "syscall")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial nint syscall_sendto(nint number, SafeHandle fd, void* buffer, nuint length, nint flags, nint address, nint addressLength);

    /// <summary>libc's <c>syscall(SYS_epoll_wait, …)</c> on x86-64 (see above); with a GC transition, as it blocks.</summary>
    [LibraryImport(Libc, EntryPoint = "syscall")]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial nint syscall_epoll_wait(nint number, SafeHandle epfd, epoll_event* events, nint maxEvents, nint timeout, nint unused1, nint unused2);

    [LibraryImport(Libc, EntryPoint = "epoll_wait")]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial int libc_epoll_wait(SafeHandle epfd, epoll_event* events, int maxEvents, int timeout);

    [LibraryImport(Libc, EntryPoint = "recv")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial nint libc_recv(SafeHandle fd, void* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "send")]
    [SuppressGCTransition]
    [return: MarshalUsing(typeof(ErrnoOnFailure))]
    private static partial nint libc_send(SafeHandle fd, void* buffer, nuint length, int flags);

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
