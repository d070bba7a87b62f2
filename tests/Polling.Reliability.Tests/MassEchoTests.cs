namespace Polling.Reliability.Tests;

/// <summary>
/// 10,000 concurrent echo connections with every byte verified, on both backends. The server runs in a child
/// process (<see cref="ServerProcess"/>) and holds all of them open at once; the clients run here on their own
/// Poll. Afterwards every descriptor is back, on both sides. Each side raises RLIMIT_NOFILE to what it needs
/// (one descriptor per connection plus a margin) and fails with the command to run if it cannot.
/// <c>POLLING_ECHO_CONNECTIONS</c> sets the count (default 10,000), <c>POLLING_ECHO_BYTES</c> the payload per
/// connection (default 1,024).
/// </summary>
public sealed class MassEchoTests(ITestOutputHelper output)
{
    private static int Connections => Setting("POLLING_ECHO_CONNECTIONS", 10_000);

    private static int PayloadBytes => Setting("POLLING_ECHO_BYTES", 1024);

    [Theory]
    [InlineData(PollBackend.Epoll)]
    [InlineData(PollBackend.Poll)]
    public void TenThousandConcurrentConnections_echo_every_byte_and_return_every_descriptor(PollBackend backend)
    {
        int count = Connections;
        ProcessResources.EnsureDescriptorLimit(count + 512);
        using var server = new ServerProcess(backend, count);
        // Warm-up: 10 connections through both sides, so what the runtimes open lazily (assemblies, thread pool,
        // the child's stdio pipes here) is open before the counts that must come back.
        (_, List<TcpStream> warm) = EchoClients.Run(backend, server.EndPoint, 10, PayloadBytes, window: 10, TimeSpan.FromSeconds(60));
        warm.ForEach(client => client.Dispose());
        while (server.Stat("live") != 0)
        {
            Thread.Sleep(5);
        }

        Dictionary<string, string> listening = server.Stats();
        long bytesBefore = long.Parse(listening["bytes"], System.Globalization.CultureInfo.InvariantCulture);
        ProcessResources.SettleGarbage();
        HashSet<string> before = ProcessResources.SocketsAndAnonymousInodeSet();
        (EchoRun run, List<TcpStream> clients) = EchoClients.Run(
            backend, server.EndPoint, count, PayloadBytes, window: 1000, TimeSpan.FromSeconds(120),
            () => string.Join(' ', server.Stats().Select(stat => $"{stat.Key}={stat.Value}")));
        Dictionary<string, string> open = server.Stats();
        Assert.Equal("none", open["failure"]);
        Assert.Equal(count.ToString(System.Globalization.CultureInfo.InvariantCulture), open["live"]);   // every connection open at once
        int clientFdsOpen = ProcessResources.SocketsAndAnonymousInodes();
        foreach (TcpStream client in clients)
        {
            client.Dispose();
            Assert.True(client.Handle.IsClosed, "a client's descriptor stayed open after Dispose");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Stat("live") != 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the server still holds connections 60 s after the clients closed: {string.Join(' ', server.Stats())}");
            Thread.Sleep(20);
        }

        Dictionary<string, string> idle = server.Stats();
        Assert.Equal("0", idle["faults"]);
        Assert.Equal("0", idle["acceptFaults"]);
        Assert.Equal(bytesBefore + ((long)count * PayloadBytes), long.Parse(idle["bytes"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(listening["fds"] == idle["fds"], $"server descriptors when listening {listening["fds"]} ({listening["kinds"]}), now {idle["fds"]}: {idle["kinds"]}");   // the server process: every descriptor back
        Assert.Equal((long)count * PayloadBytes, run.BytesVerified);
        List<string> leaked = ProcessResources.OpenedSince(before, ProcessResources.SocketsAndAnonymousInodeSet());
        int after = ProcessResources.SocketsAndAnonymousInodes();
        GC.KeepAlive(clients);
        Assert.True(leaked.Count == 0, $"{leaked.Count} client-side descriptor(s) opened during the run are still open: {string.Join(", ", leaked)}");
        Assert.Equal(0, server.Stop());
        output.WriteLine(
            $"{backend}: {count} connections open at once (server peak {open["peak"]}), {(long)count * PayloadBytes:N0} B each way, every byte verified, " +
            $"{run.Elapsed.TotalSeconds:F1} s; server descriptors {listening["fds"]} -> {open["fds"]} -> {idle["fds"]}, " +
            $"client sockets/epoll/eventfds {before.Count} -> {clientFdsOpen} -> {after}");
    }

    internal static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;
}
