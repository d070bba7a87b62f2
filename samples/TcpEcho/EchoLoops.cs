using System.Net;

namespace TcpEcho;

/// <summary>
/// The multi-core echo server: <c>N</c> independent <see cref="EchoServer"/> loops, one <see cref="Polling.Poll"/> and one
/// thread each, every one with its own <c>SO_REUSEPORT</c> listener on the same port. The kernel spreads new
/// connections over the listeners (by a hash of the connection's addresses), and a connection stays on the loop
/// that accepted it for its whole life: no locks, no hand-off, nothing shared between loops.
/// </summary>
/// <remarks>
/// With <c>N = 1</c> it is exactly one <see cref="EchoServer"/> without <c>SO_REUSEPORT</c>. Run it with <c>N</c> = the
/// number of cores the server may use. What limits it: the hash balances connections, not load (a few busy
/// connections can land on one loop while another idles); a loop that closes its listener drops the connections
/// still queued in its accept backlog; and on loopback the clients' cores do part of the servers' work (softirq).
/// </remarks>
/// <example>
/// <code>
/// using var loops = new EchoLoops(new IPEndPoint(IPAddress.Loopback, 9000), Environment.ProcessorCount);
/// Console.CancelKeyPress += (_, e) => { e.Cancel = true; loops.Stop(); };
/// loops.Run();   // returns after Stop()
/// </code>
/// </example>
public sealed class EchoLoops : IDisposable
{
    private readonly EchoServer[] _servers;

    /// <summary>Binds <paramref name="loops"/> listeners on <paramref name="endpoint"/> (port 0: one free port for all).</summary>
    /// <param name="endpoint">Where to listen.</param>
    /// <param name="loops">How many event loops (threads), 1 to 1024.</param>
    /// <param name="options">Every loop's options (backend, trigger, ...); <see cref="EchoServerOptions.ReusePort"/> is set for N &gt; 1.</param>
    public EchoLoops(IPEndPoint endpoint, int loops, EchoServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loops, 1024);
        _servers = new EchoServer[loops];
        try
        {
            EchoServerOptions each = options ?? new EchoServerOptions();
            if (loops > 1)
            {
                each = each with { ReusePort = true };
            }

            _servers[0] = new EchoServer(endpoint, each);
            var shared = new IPEndPoint(endpoint.Address, _servers[0].LocalEndPoint.Port);
            for (int i = 1; i < loops; i++)
            {
                _servers[i] = new EchoServer(shared, each);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The address every loop listens on.</summary>
    public IPEndPoint LocalEndPoint => _servers[0].LocalEndPoint;

    /// <summary>The loops, each with its own Poll, listener and connections.</summary>
    public IReadOnlyList<EchoServer> Servers => _servers;

    /// <summary>Connections accepted by all loops since start.</summary>
    public long AcceptedConnections => _servers.Sum(server => server.AcceptedConnections);

    /// <summary>Connections shed by all loops while descriptors were exhausted.</summary>
    public long ShedConnections => _servers.Sum(server => server.ShedConnections);

    /// <summary>Times any loop's accept ran out of descriptors or memory.</summary>
    public long AcceptExhaustions => _servers.Sum(server => server.AcceptExhaustions);

    /// <summary>Connections closed by all loops for being idle.</summary>
    public long IdleClosedConnections => _servers.Sum(server => server.IdleClosedConnections);

    /// <summary>Runs loop 0 on the calling thread and the others on threads of their own; returns once all stopped.</summary>
    public void Run()
    {
        var threads = new Thread[_servers.Length - 1];
        for (int i = 0; i < threads.Length; i++)
        {
            EchoServer server = _servers[i + 1];
            threads[i] = new Thread(() => server.Run()) { Name = $"echo loop {i + 1}", IsBackground = true };
            threads[i].Start();
        }

        _servers[0].Run();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
    }

    /// <summary>Stops every loop the way <see cref="EchoServer.Stop"/> does (graceful); <see cref="Run"/> returns once all finished. Thread-safe.</summary>
    public void Stop()
    {
        foreach (EchoServer server in _servers)
        {
            server.Stop();
        }
    }

    /// <summary>Closes every loop's connections, listener and Poll (after <see cref="Run"/> returned).</summary>
    public void Dispose()
    {
        foreach (EchoServer? server in _servers)
        {
            server?.Dispose();
        }
    }
}
