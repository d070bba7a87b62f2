// TcpEcho: an echo server on Polling. One Poll, edge-triggered, a slab of connections indexed by token.
//   dotnet run -c Release --project samples/TcpEcho -- [port] [--loops N]   (default 9000; 0 picks a free port;
//   N event loops on N threads, each with its own SO_REUSEPORT listener; default 1)
// Prints "listening on 127.0.0.1:PORT" once ready; Ctrl+C (SIGINT) or SIGTERM stops it with exit code 0.
using System.Net;
using System.Runtime.InteropServices;
using TcpEcho;

int port = 9000;
int loops = 1;
string usage = "usage: TcpEcho [port] [--loops N]   (port 0..65535, default 9000, 0 picks a free one; N event loops, 1..1024, default 1)";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--loops")
    {
        if (i + 1 >= args.Length || !int.TryParse(args[++i], out loops) || loops is < 1 or > 1024)
        {
            Console.Error.WriteLine($"{usage}; --loops needs a number from 1 to 1024");
            return 2;
        }
    }
    else if (!int.TryParse(args[i], out port) || port is < 0 or > 65535)
    {
        Console.Error.WriteLine($"{usage}; got '{args[i]}'");
        return 2;
    }
}

// One loop per --loops, each with its own SO_REUSEPORT listener on the port (EchoLoops; N = 1: one plain EchoServer).
using var server = new EchoLoops(new IPEndPoint(IPAddress.Loopback, port), loops);

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
Console.WriteLine($"stopped after {server.AcceptedConnections} connections");
return 0;
