using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Semantics;

/// <summary>
/// Asks the kernel about a descriptor's state without going through Polling: a one-descriptor
/// <c>poll(2)</c> (which does not consume epoll edges) and a few queue-length queries. The property
/// harness uses these to let asynchronous loopback traffic (TCP, UDP) settle before it checks a wait,
/// so the checks never depend on timing.
/// </summary>
internal static unsafe class KernelProbe
{
    public const short PollIn = 0x001;
    public const short PollOut = 0x004;
    public const short PollErr = 0x008;
    public const short PollHup = 0x010;
    public const short PollRdHup = 0x2000;

    private const int FIONREAD = 0x541B;
    private const int TIOCOUTQ = 0x5411;      // SIOCOUTQ for sockets: bytes not yet acknowledged
    private const int SOL_SOCKET = 1;
    private const int SO_MEMINFO = 55;
    private const int IPPROTO_TCP = 6;
    private const int TCP_INFO = 11;
    private const int TcpInfoUnackedOffset = 24;  // struct tcp_info: 8 one-byte fields, rto, ato, snd_mss, rcv_mss, unacked

    /// <summary>The readiness bits poll(2) reports for <paramref name="handle"/> right now (or within <paramref name="timeoutMs"/>).</summary>
    public static short Poll(SafeHandle handle, short events, int timeoutMs = 0)
    {
        pollfd fd = default;
        fd.fd = Fd(handle);
        fd.events = events;
        int n = poll(&fd, (ulong_t)1UL, timeoutMs);
        return n > 0 ? fd.revents : (short)0;
    }

    /// <summary>Bytes waiting to be read (<c>FIONREAD</c>).</summary>
    public static int Readable(SafeHandle handle)
    {
        int value = 0;
        return ioctl(Fd(handle), FIONREAD, &value) == 0 ? value : -1;
    }

    /// <summary>Bytes a TCP socket has written that the peer has not acknowledged yet (<c>SIOCOUTQ</c>).</summary>
    public static int Unacknowledged(SafeHandle handle)
    {
        int value = 0;
        return ioctl(Fd(handle), TIOCOUTQ, &value) == 0 ? value : -1;
    }

    /// <summary>Receive-queue memory of a socket (<c>SO_MEMINFO</c>, <c>SK_MEMINFO_RMEM_ALLOC</c>).</summary>
    public static long ReceiveMemory(SafeHandle handle)
    {
        uint* info = stackalloc uint[16];
        socklen_t length = 16 * sizeof(uint);
        return getsockopt(Fd(handle), SOL_SOCKET, SO_MEMINFO, info, &length) == 0 ? info[0] : -1;
    }

    /// <summary>Connections waiting in a TCP listener's accept queue (<c>TCP_INFO.tcpi_unacked</c> in LISTEN state).</summary>
    public static int AcceptQueue(SafeHandle handle)
    {
        byte* info = stackalloc byte[256];
        socklen_t length = 256;
        return getsockopt(Fd(handle), IPPROTO_TCP, TCP_INFO, info, &length) == 0 ? *(int*)(info + TcpInfoUnackedOffset) : -1;
    }

    /// <summary>Polls <paramref name="condition"/> (1 ms apart, with a short kernel wait) until it holds or <paramref name="deadline"/> passes.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan deadline)
    {
        long end = Environment.TickCount64 + (long)deadline.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > end)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    private static int Fd(SafeHandle handle) => (int)handle.DangerousGetHandle();
}
