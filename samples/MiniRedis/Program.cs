// MiniRedis: a RESP2 (Redis) server on Polling, for redis-cli and redis-benchmark.
//   dotnet run -c Release --project samples/MiniRedis -- [port]      (default 6380; 0 picks a free port)
// Binds 127.0.0.1; prints "listening on 127.0.0.1:PORT" once it accepts; SIGINT or SIGTERM stops it with exit code 0.
using System.Net;
using System.Runtime.InteropServices;
using MiniRedis.Server;

int port = 6380;
if (args.Length > 0 && (!int.TryParse(args[0], out port) || port is < 0 or > 65535))
{
    Console.Error.WriteLine($"usage: MiniRedis [port]   (0..65535, default 6380; got '{args[0]}')");
    return 2;
}

Console.Error.Flush();   // open stderr now: later, under descriptor exhaustion, opening it would fail
// maxclients below the descriptor limit: a SIGTERM that comes while every client slot is taken must still find the
// descriptors the runtime needs to start its signal-handling thread (MiniRedisOptions.DescriptorHeadroom).
using var server = new MiniRedisServer(new IPEndPoint(IPAddress.Loopback, port), new MiniRedisOptions { DescriptorHeadroom = MiniRedisOptions.SignalHeadroom });

// Stop on SIGINT/SIGTERM: the handler runs on another thread; Stop() wakes the loop through a Waker.
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;   // we exit on our own, with code 0
    server.Stop();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

Console.WriteLine($"listening on {server.LocalEndPoint}");
server.Run();
Console.WriteLine($"stopped after {server.AcceptedConnections} connections (shed at maxclients {server.MaxClients}: {server.ShedConnections})");
return 0;
