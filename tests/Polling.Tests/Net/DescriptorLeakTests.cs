using System.Net;
using System.Net.Sockets;
using Polling.Net;
using Xunit;
using static Polling.Tests.Net.NetHelpers;
using TcpListener = Polling.Net.TcpListener;

namespace Polling.Tests.Net;

/// <summary>Counting /proc/self/fd only works when nothing else opens descriptors meanwhile: this collection runs alone.</summary>
[CollectionDefinition(nameof(DescriptorCounting), DisableParallelization = true)]
public sealed class DescriptorCounting
{
}

[Collection(nameof(DescriptorCounting))]
public class DescriptorLeakTests
{
    [Fact]
    public void Opening_and_closing_ten_thousand_streams_leaves_no_descriptor_behind()
    {
        using var poll = new Poll();
        using var listener = TcpListener.Bind(LoopbackAny);
        string path = "\0polling-leak-" + Guid.NewGuid().ToString("N");
        using var unixListener = UnixListener.Bind(path);
        RoundOfEverything(poll, listener, unixListener, path, 20, []); // warm up lazily opened runtime descriptors
        var before = Descriptors.Baseline(); // after other tests' leftovers are finalized

        var handles = new List<System.Runtime.InteropServices.SafeHandle>();
        for (int round = 0; round < 10; round++)
        {
            RoundOfEverything(poll, listener, unixListener, path, 1000, handles);
        }

        Descriptors.AssertAllClosed(handles, "streams");
        Descriptors.AssertNoneLeakedSince(before, handles);
    }

    [Fact]
    public void Failed_calls_leave_no_descriptor_behind()
    {
        using var taken = TcpListener.Bind(LoopbackAny);
        IPEndPoint closed;
        using (var probe = TcpListener.Bind(LoopbackAny))
        {
            closed = probe.LocalEndPoint;
        }

        var handles = new List<System.Runtime.InteropServices.SafeHandle>();
        Fail(taken, closed, handles); // warm up
        var before = Descriptors.Baseline();
        for (int i = 0; i < 500; i++)
        {
            Fail(taken, closed, handles);
        }

        Descriptors.AssertAllClosed(handles, "refused connects");
        Descriptors.AssertNoneLeakedSince(before, handles);

        static void Fail(TcpListener taken, IPEndPoint closed, List<System.Runtime.InteropServices.SafeHandle> handles)
        {
            Assert.Throws<SocketException>(() => TcpListener.Bind(taken.LocalEndPoint));
            Assert.Throws<SocketException>(() => UnixStream.Connect("\0polling-nobody-listens-here"));
            Assert.Throws<ArgumentException>(() => UnixListener.Bind("/" + new string('x', 200)));
            try
            {
                TcpStream refused = TcpStream.Connect(closed); // refused later, through TakeError
                handles.Add(refused.Handle);
                refused.Dispose();
            }
            catch (SocketException)
            {
                // refused at once: also fine
            }
        }
    }

    private static void RoundOfEverything(Poll poll, TcpListener listener, UnixListener unixListener, string path, int count, List<System.Runtime.InteropServices.SafeHandle> handles)
    {
        var clients = new List<TcpStream>(count);
        for (int i = 0; i < count; i++)
        {
            clients.Add(TcpStream.Connect(listener.LocalEndPoint));
        }

        int accepted = 0;
        Eventually(() =>
        {
            while (listener.TryAccept(out TcpStream? server))
            {
                poll.Registry.Register(server, (Token)(ulong)accepted, Interest.Readable);
                handles.Add(server.Handle);
                server.Dispose();
                accepted++;
            }

            return accepted == count;
        }, $"{count} TCP accepts");

        foreach (TcpStream client in clients)
        {
            client.Linger = TimeSpan.Zero; // reset instead of TIME_WAIT: spares the ephemeral ports
            handles.Add(client.Handle);
            client.Dispose();
        }

        for (int i = 0; i < count; i++)
        {
            var (a, b) = UnixStream.Pair();
            poll.Registry.Register(a, (Token)1, Interest.Readable);
            handles.Add(a.Handle);
            handles.Add(b.Handle);
            a.Dispose();
            b.Dispose();
        }

        for (int i = 0; i < count / 10; i++)
        {
            using var client = UnixStream.Connect(path);
            UnixStream? server = null;
            Eventually(() => unixListener.TryAccept(out server), "unix accept");
            handles.Add(client.Handle);
            handles.Add(server!.Handle);
            server.Dispose();
            TcpStream adopted = TcpStream.FromSocket(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            handles.Add(adopted.Handle);
            adopted.Dispose();
        }
    }
}
