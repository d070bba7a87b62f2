using System.Diagnostics;

namespace Polling.Reliability.Tests;

/// <summary>
/// A soak: rounds of 200 echo connections (4 KiB each, every byte verified) through one server for
/// <c>POLLING_SOAK_SECONDS</c> per backend (default 8), sampling this process's descriptors, its resident memory
/// and its live managed heap after every round, once the server is idle. After a warm-up (the first quarter of the
/// rounds, at least 3) nothing may grow: no descriptor opened since the warm-up still open (compared by identity), the live heap within 1 MiB,
/// RSS within 16 MiB (the GC's segments and the kernel's socket memory move by a few MiB on their own).
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int PerRound = 200;
    private const int Payload = 4096;

    private static int Seconds => MassEchoTests.Setting("POLLING_SOAK_SECONDS", 8);

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void EchoRounds_for_the_soak_duration_grow_no_descriptors_and_no_memory_after_warm_up(PollBackend backend)
    {
        var samples = new List<(int Descriptors, long RssKib, long HeapBytes)>();
        var descriptorSets = new List<HashSet<string>>();
        long connections = 0, bytes = 0;
        ProcessResources.SettleGarbage(); // an earlier test's garbage, finalized mid-soak, would move the samples
        var clock = Stopwatch.StartNew();
        using (var server = new EchoServer(backend))
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(Seconds) || samples.Count < 8)
            {
                (EchoRun run, List<TcpStream> clients) = EchoClients.Run(backend, server.EndPoint, PerRound, Payload, window: PerRound, TimeSpan.FromSeconds(60));
                foreach (TcpStream client in clients)
                {
                    client.Dispose();
                }

                server.WaitUntilIdle(TimeSpan.FromSeconds(30));
                connections += run.Connections;
                bytes += run.BytesVerified;
                // A full collection measures the live heap; descriptors are counted before it, with nothing left to finalize
                // that a Dispose forgot (every client is disposed, every server connection closed by the server).
                HashSet<string> descriptors = ProcessResources.SocketsAndAnonymousInodeSet();
                descriptorSets.Add(descriptors);
                samples.Add((descriptors.Count, ProcessResources.ResidentKib(), GC.GetTotalMemory(forceFullCollection: true)));
                GC.KeepAlive(clients);
            }

            server.AssertAlive();
            Assert.Equal(0, server.ConnectionFaults);
            Assert.Equal(bytes, server.BytesEchoed);
        }

        int warm = Math.Max(3, samples.Count / 4);
        var (warmFds, warmRss, warmHeap) = samples[warm - 1];
        string table = string.Join("; ", samples.Select((s, i) => $"#{i + 1} fds {s.Descriptors} rss {s.RssKib / 1024.0:F1} MiB heap {s.HeapBytes / 1048576.0:F2} MiB"));
        output.WriteLine($"{backend}: {samples.Count} rounds, {connections:N0} connections, {bytes:N0} B verified in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"{backend}: after warm-up (round {warm}) fds {warmFds}, rss {warmRss / 1024.0:F1} MiB, heap {warmHeap / 1048576.0:F2} MiB; " +
                         $"last: fds {samples[^1].Descriptors}, rss {samples[^1].RssKib / 1024.0:F1} MiB, heap {samples[^1].HeapBytes / 1048576.0:F2} MiB");
        foreach (var (sample, index) in samples.Select((s, i) => (s, i)).Skip(warm))
        {
            // By identity: a descriptor opened since the warm-up and still open is a leak; one that closed is not.
            List<string> opened = ProcessResources.OpenedSince(descriptorSets[warm - 1], descriptorSets[index]);
            Assert.True(opened.Count == 0, $"round {index + 1}: {opened.Count} descriptor(s) opened since the warm-up are still open ({string.Join(", ", opened)}): {table}");
            Assert.True(sample.HeapBytes - warmHeap < 1024 * 1024, $"round {index + 1}: the live heap grew by {(sample.HeapBytes - warmHeap) / 1024} KiB after the warm-up: {table}");
            Assert.True(sample.RssKib - warmRss < 16 * 1024, $"round {index + 1}: RSS grew by {(sample.RssKib - warmRss) / 1024} MiB after the warm-up: {table}");
        }
    }
}
