using System.Diagnostics;
using System.Net.Sockets;
using Xunit;

namespace Polling.TestSupport;

/// <summary>
/// The descriptor-limit drill for a demo server started under <c>prlimit</c> (<see cref="DemoProcess(int?, string, string[])"/>):
/// more clients than descriptors; some are served and the rest shed; half the served ones leave and a new client is
/// served; then every client still held has a request in flight when SIGTERM comes, gets its answer and an orderly end
/// of stream (a reset throws), and the program exits 0, having finished every connection within its grace.
/// </summary>
internal static class DescriptorLimitDrill
{
    /// <summary>What a client of the drill does; every read has a deadline (the clients' receive timeouts).</summary>
    /// <param name="Connect">Connects client number <c>i</c> (-1 for the new ones) and sends its first request.</param>
    /// <param name="ReadFirst">Reads the first answer and checks it; an <see cref="IOException"/> or a reset means the client was shed.</param>
    /// <param name="SendLast">Sends the request that is in flight when SIGTERM comes.</param>
    /// <param name="ReadLastThenEnd">Reads and checks its answer, then everything up to the end of stream.</param>
    /// <param name="AtTheLimit">Optional: more checks on one held client while every slot is taken.</param>
    public sealed record Client<T>(Func<int, T> Connect, Action<T, int> ReadFirst, Action<T> SendLast, Action<T> ReadLastThenEnd, Action<T>? AtTheLimit = null)
        where T : IDisposable;

    /// <summary>Runs the drill with <paramref name="count"/> clients; returns the held count and what the program printed.</summary>
    /// <param name="demo">The program, started under a descriptor limit below <paramref name="count"/>.</param>
    /// <param name="count">How many clients connect at first.</param>
    /// <param name="client">What a client does.</param>
    /// <param name="beforeTheLoopRuns">
    /// Stop the program while the clients connect and send their first request, so that all of them are in its
    /// backlog when its loop runs again: it accepts up to its cap before it reads a single request (what a loaded
    /// machine does by chance; the server then parses its first request with only its headroom free).
    /// </param>
    public static (int Held, string Printed) Run<T>(DemoProcess demo, int count, Client<T> client, bool beforeTheLoopRuns = false)
        where T : IDisposable
    {
        var clients = new List<T>();
        try
        {
            if (beforeTheLoopRuns)
            {
                demo.Suspend();
            }

            try
            {
                for (int i = 0; i < count; i++)
                {
                    clients.Add(client.Connect(i));
                }
            }
            finally
            {
                if (beforeTheLoopRuns)
                {
                    demo.Continue();
                }
            }

            List<T> held = clients.Where((c, i) => Served(() => client.ReadFirst(c, i))).ToList();
            if (held.Count <= 2 || held.Count >= count)
            {
                Assert.Fail($"held {held.Count} of {count}: the limit was not reached, or too few were served; {demo.Describe()}");
            }

            client.AtTheLimit?.Invoke(held[0]);

            // Half the held clients leave: a new client is served (the server sees them go one by one, hence the retries).
            List<T> staying = held.Skip(held.Count / 2).ToList();
            clients.Except(staying).ToList().ForEach(c => c.Dispose());
            bool served = false;
            for (var clock = Stopwatch.StartNew(); !served && clock.Elapsed < TimeSpan.FromSeconds(10);)
            {
                using T fresh = client.Connect(-1);
                served = Served(() => client.ReadFirst(fresh, -1));
            }

            if (!served)
            {
                Assert.Fail($"a new client is served once descriptors are free; {demo.Describe()}");
            }

            staying.ForEach(client.SendLast);
            demo.SendTerminate();
            foreach (T c in staying)
            {
                client.ReadLastThenEnd(c);
                c.Dispose(); // as a client does at the end of stream
            }

            int exit = demo.WaitForExit();
            string printed = demo.Output;
            Assert.True(exit == 0, $"exit code {exit}: {printed}");
            Assert.DoesNotContain("not all finished", printed);
            return (staying.Count, printed);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static bool Served(Action readFirst)
    {
        try
        {
            readFirst();
            return true;
        }
        catch (Exception e) when (e is IOException || (e is SocketException s && s.SocketErrorCode == SocketError.ConnectionReset))
        {
            return false;
        }
    }
}
