using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Polling.Net;
using Polling.Net.Os;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;
using TcpListener = Polling.Net.TcpListener;
using UnixListener = Polling.Net.UnixListener;

namespace Polling.Tests.Exhaustion;

/// <summary>
/// What runs in the child process: sets up every kind of source, lowers <c>RLIMIT_NOFILE</c> to 256 and
/// takes every descriptor left, then checks that each source's <c>Try…</c> (and every factory) throws the
/// documented exception with its complete message, that <c>ToString()</c> of every source still works and is
/// unchanged, that exceptions for every errno can be built, and that no assembly was loaded meanwhile (a
/// load needs a descriptor and would have failed anyway). Then it frees the descriptors and checks that
/// the process works on: the listener that failed to accept reports the next connection (on either
/// backend) and the backlog is served. Prints "OK" and exits 0, or prints each failure and exits 1.
/// </summary>
internal static unsafe class ExhaustionScenario
{
    /// <summary><c>struct rlimit</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    private const int Limit = 256;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static readonly List<string> Failures = [];

    public static int Run(string scenario)
    {
        Console.Out.WriteLine($"child: scenario {scenario}");   // Console opens (dups) stdout lazily: do it now
        Console.Out.Flush();
        try
        {
            if (scenario == "first-failure")
            {
                FirstFailureAtTheLimit();
            }
            else
            {
                Exhaust(scenario == "poll" ? PollBackend.Poll : PollBackend.Epoll);
            }
        }
        catch (Exception unexpected)
        {
            Failures.Add($"unexpected {unexpected}");
        }

        foreach (string failure in Failures)
        {
            Console.Out.WriteLine($"FAIL: {failure}");
        }

        Console.Out.WriteLine(Failures.Count == 0 ? "OK" : $"{Failures.Count} failures");
        Console.Out.Flush();
        return Failures.Count == 0 ? 0 : 1;
    }

    private static void Exhaust(PollBackend backend)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"polling-exhaustion-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        string unixPath = Path.Combine(directory, "listener.sock");
        using var poll = new Poll(backend);
        var events = new Events(16);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var unixListener = UnixListener.Bind(unixPath);
        using var udp = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        (PipeSender sender, PipeReceiver receiver) = Pipe.Create();
        (UnixStream left, UnixStream right) = UnixStream.Pair();
        (UnixDatagram dgramA, UnixDatagram dgramB) = UnixDatagram.Pair();
        using var timer = new TimerSource();
        using var connecting = TcpStream.Connect(listener.LocalEndPoint);
        object[] sources = [listener, unixListener, udp, sender, receiver, left, right, dgramA, dgramB, timer, connecting];
        string[] names = [.. sources.Select(source => source.ToString()!)];
        poll.Registry.Register(listener, (Token)1, Interest.Readable);
        poll.Registry.Register(unixListener, (Token)2, Interest.Readable);

        var clients = new List<Socket>();
        for (int i = 0; i < 3; i++)
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(unixPath));
            clients.Add(client);
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Connect(listener.LocalEndPoint);
            clients.Add(tcp);
        }

        WaitFor(poll, events, [(Token)1, (Token)2], "the listeners' first events");

        int assemblies = AppDomain.CurrentDomain.GetAssemblies().Length;
        List<int> fillers = TakeEveryDescriptor();
        try
        {
            Check(fillers.Count > 0, "no descriptor was left to take");
            string tooMany = "failed: Too many open files (errno 24), TooManyOpenSockets. The process or system ran out of file descriptors: close unused sockets or raise the limit (ulimit -n).";
            Throws<SocketException>(() => listener.TryAccept(out _), $"accept a connection on {names[0]} {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => listener.TryAccept(out _, out _), $"accept a connection on {names[0]} {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => unixListener.TryAccept(out _), $"accept a connection on {names[1]} {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => unixListener.TryAccept(out _, out _), $"accept a connection on {names[1]} {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => TcpStream.Connect(listener.LocalEndPoint), $"create a TCP socket to connect to {listener.LocalEndPoint} {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0)), $"create a TCP socket to listen on 127.0.0.1:0 {tooMany}", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0)), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => UnixStream.Pair(), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => UnixStream.Connect(unixPath), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => UnixDatagram.Pair(), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            Throws<SocketException>(() => UnixListener.Bind(Path.Combine(directory, "second.sock")), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            Throws<IOException>(() => Pipe.Create(), "Too many open files (errno 24)", null);
            Throws<IOException>(() => new TimerSource(), "Too many open files (errno 24)", null);

            for (int i = 0; i < sources.Length; i++)
            {
                string now = sources[i].ToString()!;
                Check(now == names[i], $"ToString() at the limit gave '{now}', before it was '{names[i]}'");
            }

            for (int errno = 1; errno <= 140; errno++)
            {
                string socket = SocketErrors.Exception(errno, "probe").Message;
                string io = Errno.ToIOException(errno, "probe").Message;
                Check(socket.Contains($"errno {errno}", StringComparison.Ordinal) && io.Contains($"errno {errno}", StringComparison.Ordinal),
                    $"the message for errno {errno} does not name it: '{socket}' / '{io}'");
            }

            int loaded = AppDomain.CurrentDomain.GetAssemblies().Length;
            Check(loaded == assemblies, $"{loaded - assemblies} assemblies were loaded on the error paths");
        }
        finally
        {
            foreach (int fd in fillers)
            {
                close(fd);
            }
        }

        // Descriptors are back. The listeners whose accept threw must report new connections (poll(2) stayed
        // deaf here before the one-path fix), and then the whole backlog is served.
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        late.Connect(listener.LocalEndPoint);
        using var lateUnix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        lateUnix.Connect(new UnixDomainSocketEndPoint(unixPath));
        WaitFor(poll, events, [(Token)1, (Token)2], "the listeners' events for connections after the descriptors came back");
        int accepted = 0;
        while (listener.TryAccept(out TcpStream? stream))
        {
            stream.Dispose();
            accepted++;
        }

        Check(accepted == 5, $"accepted {accepted} TCP connections after the exhaustion, expected 5 (3 waiting, the connecting stream, 1 new)");
        accepted = 0;
        while (unixListener.TryAccept(out UnixStream? stream))
        {
            stream.Dispose();
            accepted++;
        }

        Check(accepted == 4, $"accepted {accepted} Unix connections after the exhaustion, expected 4 (3 waiting, 1 new)");
        clients.ForEach(client => client.Dispose());
        foreach (IDisposable source in new IDisposable[] { sender, receiver, left, right, dgramA, dgramB })
        {
            source.Dispose();
        }

        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// The issue's TcpEcho crash: a program that never used System.Net.Sockets itself meets its first failed
    /// accept at the limit; building that exception (and the listener's ToString) must load nothing.
    /// Only Polling's own types are used before the limit, so nothing has loaded what the error path needs.
    /// </summary>
    private static void FirstFailureAtTheLimit()
    {
        using var poll = new Poll();
        var events = new Events(16);
        using var listener = TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        poll.Registry.Register(listener, (Token)1, Interest.Readable);
        using var client = TcpStream.Connect(listener.LocalEndPoint);
        WaitFor(poll, events, [(Token)1], "the listener's first event");
        List<int> fillers = TakeEveryDescriptor();
        try
        {
            Throws<SocketException>(() => listener.TryAccept(out _), "Too many open files (errno 24), TooManyOpenSockets.", SocketError.TooManyOpenSockets);
            string name = listener.ToString();
            Check(name.StartsWith("TcpListener(fd ", StringComparison.Ordinal) && name.Contains("127.0.0.1:", StringComparison.Ordinal), $"ToString() at the limit gave '{name}'");
        }
        finally
        {
            fillers.ForEach(fd => close(fd));
        }

        Check(listener.TryAccept(out TcpStream? accepted), "the waiting connection was not accepted after the descriptors came back");
        accepted?.Dispose();
    }

    /// <summary>Lowers the soft and hard limit to <see cref="Limit"/> and opens descriptors until EMFILE; returns them.</summary>
    private static List<int> TakeEveryDescriptor()
    {
        var limit = new Rlimit { Current = Limit, Maximum = Limit };
        Check(setrlimit(RlimitNoFile, &limit) == 0, $"setrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        var fillers = new List<int>(Limit);
        int seed = (int)open("/dev/null"u8.ToArray(), O_RDONLY | O_CLOEXEC);
        fillers.Add(seed);
        while (true)
        {
            int fd = fcntl(seed, F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
            {
                Check(errno == EMFILE, $"filling descriptors stopped with errno {errno}, not EMFILE");
                return fillers;
            }

            fillers.Add(fd);
        }
    }

    private const int RlimitNoFile = 7;

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int setrlimit(int resource, Rlimit* limit);

    private static int open(byte[] path, int flags)
    {
        fixed (byte* pointer = path)
        {
            return LibC.open(pointer, flags);
        }
    }

    private static void Throws<TException>(Action action, string expected, SocketError? code)
        where TException : Exception
    {
        try
        {
            action();
            Failures.Add($"no exception where '{expected}' was expected");
        }
        catch (TException error)
        {
            if (!error.Message.Contains(expected, StringComparison.Ordinal))
            {
                Failures.Add($"message '{error.Message}' lacks '{expected}'");
            }

            if (code is { } socketError && error is SocketException socket && socket.SocketErrorCode != socketError)
            {
                Failures.Add($"SocketErrorCode {socket.SocketErrorCode}, expected {socketError}: {error.Message}");
            }
        }
        catch (Exception other)
        {
            Failures.Add($"{other.GetType().Name} where {typeof(TException).Name} '{expected}' was expected: {other}");
        }
    }

    private static void Check(bool condition, string failure)
    {
        if (!condition)
        {
            Failures.Add(failure);
        }
    }

    private static void WaitFor(Poll poll, Events events, Token[] tokens, string what)
    {
        var missing = new HashSet<Token>(tokens);
        long end = Environment.TickCount64 + (long)Deadline.TotalMilliseconds;
        while (Environment.TickCount64 < end && missing.Count > 0)
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(100));
            foreach (Event ev in events)
            {
                missing.Remove(ev.Token);
            }
        }

        if (missing.Count > 0)
        {
            Failures.Add($"no event for token(s) {string.Join(", ", missing.Select(t => (ulong)t))}: {what}");
        }
    }
}
