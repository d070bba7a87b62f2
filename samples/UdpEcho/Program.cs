// UdpEcho: the UDP echo server of the classic libev example, on Polling: every datagram goes back to its sender.
//   dotnet run -c Release --project samples/UdpEcho -- [port]      (default 9001; 0 picks a free port)
// Prints "listening on 127.0.0.1:PORT" once ready; Ctrl+C (SIGINT) or SIGTERM stops it with exit code 0.
// Try it:  echo hello | nc -u -w1 127.0.0.1 9001
using System.Net;
using System.Runtime.InteropServices;
using UdpEcho;

int port = 9001;
if (args.Length > 0 && (!int.TryParse(args[0], out port) || port is < 0 or > 65535))
{
    Console.Error.WriteLine($"usage: UdpEcho [port]   (0..65535, default 9001; got '{args[0]}')");
    return 2;
}

using var server = new UdpEchoServer(new IPEndPoint(IPAddress.Loopback, port));

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
Console.WriteLine($"stopped after echoing {server.DatagramsEchoed} datagrams ({server.DatagramsDropped} dropped)");
return 0;
