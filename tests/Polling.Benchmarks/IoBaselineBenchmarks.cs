using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Polling.Net;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Benchmarks;

/// <summary>
/// Each Polling operation next to the same raw system calls, in the same run (baseline = the raw calls, so the
/// Ratio column is Polling's overhead over the kernel floor): TryRead and TryWrite of 64 B and 16 KiB on a loopback TCP pair. Every benchmark checks what its calls returned on both sides and throws
/// otherwise, so a would-block can never pass for a cheap no-op.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*IoBaseline*' --job short</c>.
/// TryRead is measured as "peer sends (raw) + TryRead" against "peer sends (raw) + recv", TryWrite as
/// "TryWrite + peer receives (raw)" against "send + peer receives (raw)": the raw half is the same on both sides.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public unsafe class IoBaselineBenchmarks
{
    private TcpStream _client = null!;
    private TcpStream _server = null!;
    private int _clientFd;
    private int _serverFd;
    private byte[] _outgoing = null!;
    private byte[] _incoming = null!;

    /// <summary>Bytes per TryRead/TryWrite.</summary>
    [Params(64, 16 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_client, _server) = TcpPair.Connect();
        _clientFd = (int)_client.Handle.DangerousGetHandle();
        _serverFd = (int)_server.Handle.DangerousGetHandle();
        _outgoing = new byte[Size];
        _incoming = new byte[Size];
        new Random(1).NextBytes(_outgoing);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    // ---- TryWrite: the writer's call differs, the peer's raw recv is the same ----

    [Benchmark(Baseline = true, Description = "send + peer recv")]
    [BenchmarkCategory("Write")]
    public int RawWrite()
    {
        fixed (byte* data = _outgoing)
        {
            long sent = send(_clientFd, data, _outgoing.Length, MSG_NOSIGNAL);
            if (sent != _outgoing.Length)
            {
                throw new InvalidOperationException($"send returned {sent}");
            }
        }

        return RawReceiveAll(_serverFd);
    }

    [Benchmark(Description = "TcpStream.TryWrite + peer recv")]
    [BenchmarkCategory("Write")]
    public int PollingWrite()
    {
        if (!_client.TryWrite(_outgoing, out int written) || written != _outgoing.Length)
        {
            throw new InvalidOperationException($"TryWrite wrote {written} of {_outgoing.Length}");
        }

        return RawReceiveAll(_serverFd);
    }

    // ---- TryRead: the peer's raw send is the same, the reader's call differs ----

    [Benchmark(Baseline = true, Description = "peer send + recv")]
    [BenchmarkCategory("Read")]
    public int RawRead()
    {
        RawSendAll(_clientFd);
        return RawReceiveAll(_serverFd);
    }

    [Benchmark(Description = "peer send + TcpStream.TryRead")]
    [BenchmarkCategory("Read")]
    public int PollingRead()
    {
        RawSendAll(_clientFd);
        int got = 0;
        while (got < _incoming.Length)
        {
            if (!_server.TryRead(_incoming.AsSpan(got), out int n) || n == 0)
            {
                throw new InvalidOperationException($"TryRead: would-block or end of stream after {got} of {_incoming.Length} bytes");
            }

            got += n;
        }

        return got;
    }

    [Benchmark(Description = "peer send + TcpStream.TryRead(out drained)")]
    [BenchmarkCategory("Read")]
    public int PollingReadDrained()
    {
        RawSendAll(_clientFd);
        int got = 0;
        while (got < _incoming.Length)
        {
            if (!_server.TryRead(_incoming.AsSpan(got), out int n, out _) || n == 0)
            {
                throw new InvalidOperationException($"TryRead: would-block or end of stream after {got} of {_incoming.Length} bytes");
            }

            got += n;
        }

        return got;
    }

    private void RawSendAll(int fd)
    {
        fixed (byte* data = _outgoing)
        {
            long sent = send(fd, data, _outgoing.Length, MSG_NOSIGNAL);
            if (sent != _outgoing.Length)
            {
                throw new InvalidOperationException($"send returned {sent} (errno {errno})");
            }
        }
    }

    /// <summary>Receives exactly <see cref="Size"/> bytes (loopback delivers within the sender's call, so they are there).</summary>
    private int RawReceiveAll(int fd)
    {
        int got = 0;
        fixed (byte* data = _incoming)
        {
            while (got < _incoming.Length)
            {
                long n = recv(fd, data + got, _incoming.Length - got, 0);
                if (n <= 0)
                {
                    throw new InvalidOperationException($"recv returned {n} (errno {errno}) after {got} of {_incoming.Length} bytes");
                }

                got += (int)n;
            }
        }

        return got;
    }
}
