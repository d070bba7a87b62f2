// dotnet-raw: c-epoll-min transcribed into C# with raw libc calls on int descriptors — no Polling, no SafeHandle,
// no errno handling beyond "n < 0: stop", no partial-write handling (a send that would block loses the rest: fine
// for echo-load, whose clients wait for each echo; not a server to keep). It measures what the .NET runtime itself
// costs on the C design: side by side with c-epoll-min it made 0.99-1.00x the round trips (JIT and NativeAOT,
// 2026-12-02), so whatever separates Polling from C is Polling's own code, not the runtime (README, Performance).
//
// usage: dotnet-raw PORT   (listens on 127.0.0.1:PORT, runs until killed)
using System.Runtime.InteropServices;
unsafe
{
    int port = int.Parse(args[0]);
    int lfd = N.socket(2, 1 | 0x800 | 0x80000, 0);
    int one = 1; N.setsockopt(lfd, 1, 2, &one, 4);
    byte* a = stackalloc byte[16]; new Span<byte>(a, 16).Clear();
    a[0] = 2; a[2] = (byte)(port >> 8); a[3] = (byte)port; a[4] = 127; a[7] = 1;
    if (N.bind(lfd, a, 16) < 0 || N.listen(lfd, 4096) < 0) { Console.Error.WriteLine("bind"); return; }
    int ep = N.epoll_create1(0x80000);
    long* ev = stackalloc long[2];
    *(uint*)ev = 1u | (1u << 31); *(int*)((byte*)ev + 4) = lfd;
    N.epoll_ctl(ep, 1, lfd, ev);
    byte* evs = (byte*)NativeMemory.Alloc(1024 * 12);
    byte* rbuf = (byte*)NativeMemory.Alloc(65536);
    Console.WriteLine("listening");
    for (;;)
    {
        int n = N.epoll_wait(ep, evs, 1024, -1);
        for (int i = 0; i < n; i++)
        {
            int fd = *(int*)(evs + i * 12 + 4);
            if (fd != lfd)
            {
                for (;;)
                {
                    nint r = N.recv(fd, rbuf, 65536, 0);
                    if (r > 0) { N.send(fd, rbuf, (nuint)r, 0x4000); if (r < 65536) break; continue; }
                    if (r == 0) N.close(fd);
                    break;
                }
                continue;
            }
            for (;;)
            {
                int cfd = N.accept4(lfd, null, null, 0x800 | 0x80000);
                if (cfd < 0) break;
                N.setsockopt(cfd, 6, 1, &one, 4);
                *(uint*)ev = 1u | 4u | 0x2000u | (1u << 31); *(int*)((byte*)ev + 4) = cfd;
                N.epoll_ctl(ep, 1, cfd, ev);
            }
        }
    }
}
static unsafe class N
{
    [DllImport("libc.so.6")] public static extern int socket(int d, int t, int p);
    [DllImport("libc.so.6")] public static extern int setsockopt(int fd, int l, int o, void* v, int len);
    [DllImport("libc.so.6")] public static extern int bind(int fd, void* a, int len);
    [DllImport("libc.so.6")] public static extern int listen(int fd, int b);
    [DllImport("libc.so.6")] public static extern int epoll_create1(int f);
    [DllImport("libc.so.6")] public static extern int epoll_ctl(int ep, int op, int fd, void* ev);
    [DllImport("libc.so.6")] public static extern int epoll_wait(int ep, void* evs, int max, int t);
    [DllImport("libc.so.6"), SuppressGCTransition] public static extern nint recv(int fd, void* b, nuint n, int f);
    [DllImport("libc.so.6"), SuppressGCTransition] public static extern nint send(int fd, void* b, nuint n, int f);
    [DllImport("libc.so.6")] public static extern int accept4(int fd, void* a, void* l, int f);
    [DllImport("libc.so.6")] public static extern int close(int fd);
}
