using System.Diagnostics;

namespace Polling.Reliability.Tests;

/// <summary>What a run of <see cref="EchoClients"/> saw.</summary>
internal readonly record struct EchoRun(int Connections, long BytesVerified, int PeakOpen, TimeSpan Elapsed);

/// <summary>
/// Many non-blocking echo clients on one <see cref="Poll"/>: each connects, sends its own pattern of
/// <c>size</c> bytes and verifies every byte that comes back. All of them stay open until the last one is
/// verified, so the server holds every connection at once. At most <c>window</c> are in progress at a time,
/// so the listener's backlog is never the bottleneck.
/// </summary>
internal static class EchoClients
{
    private const Token None = (Token)ulong.MaxValue;

    /// <summary>The byte at <paramref name="offset"/> of connection <paramref name="id"/>'s payload.</summary>
    public static byte Pattern(int id, int offset) => (byte)((id * 7) + (offset * 13) + (offset >> 8) + (id >> 8));

    /// <summary>Runs <paramref name="count"/> clients against <paramref name="server"/>; returns them still open (the caller closes).</summary>
    public static (EchoRun Run, List<TcpStream> Open) Run(PollBackend backend, IPEndPoint server, int count, int size, int window, TimeSpan deadline, Func<string>? serverState = null)
    {
        using var poll = new Poll(backend);
        var events = new Events(1024);
        var streams = new TcpStream?[count];
        var connected = new bool[count];
        var sent = new int[count];
        var received = new int[count];
        byte[] scratch = new byte[Math.Max(size, 4096)];
        int started = 0, verified = 0, open = 0, peak = 0;
        long bytes = 0;
        var clock = Stopwatch.StartNew();

        while (verified < count)
        {
            while (started < count && started - verified < window)
            {
                streams[started] = TcpStream.Connect(server);
                poll.Registry.Register(streams[started]!, (Token)(ulong)started, Interest.Readable | Interest.Writable);
                started++;
                peak = Math.Max(peak, ++open);
            }

            if (clock.Elapsed > deadline)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{backend}: after {clock.Elapsed.TotalSeconds:F1} s only {verified} of {count} connections were echoed " +
                    $"({started} started, {connected.Count(c => c)} connected); server: {serverState?.Invoke()}");
            }

            poll.Wait(events, TimeSpan.FromMilliseconds(500));
            foreach (Event ev in events)
            {
                int id = (int)(ulong)ev.Token;
                TcpStream stream = streams[id]!;
                if (!connected[id])
                {
                    if (!stream.TryFinishConnect())
                    {
                        continue;
                    }

                    connected[id] = true;
                }

                while (sent[id] < size)
                {
                    int chunk = size - sent[id];
                    for (int i = 0; i < chunk; i++)
                    {
                        scratch[i] = Pattern(id, sent[id] + i);
                    }

                    if (!stream.TryWrite(scratch.AsSpan(0, chunk), out int written))
                    {
                        break;
                    }

                    sent[id] += written;
                }

                while (received[id] < size && stream.TryRead(scratch, out int read))
                {
                    if (read == 0)
                    {
                        throw new Xunit.Sdk.XunitException($"connection {id}: the server closed after {received[id]} of {size} bytes");
                    }

                    for (int i = 0; i < read; i++)
                    {
                        if (scratch[i] != Pattern(id, received[id] + i))
                        {
                            throw new Xunit.Sdk.XunitException($"connection {id}: byte {received[id] + i} is {scratch[i]}, expected {Pattern(id, received[id] + i)}");
                        }
                    }

                    received[id] += read;
                    bytes += read;
                    if (received[id] > size)
                    {
                        throw new Xunit.Sdk.XunitException($"connection {id}: {received[id]} bytes came back for {size} sent");
                    }

                    if (received[id] == size)
                    {
                        verified++;
                    }
                }
            }
        }

        var result = new List<TcpStream>(count);
        foreach (TcpStream? stream in streams)
        {
            poll.Registry.Deregister(stream!);
            result.Add(stream!);
        }

        return (new EchoRun(count, bytes, peak, clock.Elapsed), result);
    }
}
