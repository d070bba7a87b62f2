// HttpPing: an HTTP/1.1 server on Polling. GET /ping -> 200 PONG; keep-alive, pipelining, limits, idle timeout.
//   dotnet run -c Release --project samples/HttpPing -- PORT [--idle-timeout SECONDS]
// Binds 127.0.0.1:PORT (0 picks a free port), prints "listening on 127.0.0.1:PORT" once it accepts;
// SIGINT (Ctrl+C) or SIGTERM stops it with exit code 0.
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using HttpPing;

const string Usage = "usage: HttpPing PORT [--idle-timeout SECONDS]   (PORT 0..65535; idle timeout default 30 s)";
if (args.Length is not (1 or 3) || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var options = new HttpServerOptions();
if (args.Length == 3)
{
    if (args[1] != "--idle-timeout" || !double.TryParse(args[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
        || !(seconds > 0 && seconds <= 86_400))
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    options = options with { IdleTimeout = TimeSpan.FromSeconds(seconds) };
}

// maxclients below the descriptor limit: a SIGTERM that comes while every client slot is taken must still find the
// descriptors the runtime needs to start its signal-handling thread (HttpServerOptions.DescriptorHeadroom).
options = options with { DescriptorHeadroom = HttpServerOptions.SignalHeadroom };
using var server = new HttpServer(new IPEndPoint(IPAddress.Loopback, port), options);

// Stop on SIGINT/SIGTERM: the handler runs on another thread; Stop() wakes the loop through a Waker.
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true; // we exit on our own, with code 0
    server.Stop();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

Console.WriteLine($"listening on {server.LocalEndPoint}");
server.Run();
Console.WriteLine($"stopped after {server.AcceptedConnections} connections, {server.Requests} requests");
return 0;
