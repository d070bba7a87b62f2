// WorkerOffload: keep the I/O thread free of long work. The loop parses line requests, answers "echo" at
// once, hands "work" to thread-pool workers, and receives their results back through a ChannelSource.
//   dotnet run -c Release --project samples/WorkerOffload -- [port]      (default 9001; 0 picks a free port)
//   printf 'work 2000\necho hello\n' | nc 127.0.0.1 9001     -> "hello" at once, "done 2000" two seconds later
// Prints "listening on 127.0.0.1:PORT" once ready. SIGINT (Ctrl+C) or SIGTERM, received through a SignalSource
// in the loop, stops accepting, lets running jobs finish and deliver their replies, and exits with code 0.
// It holds only as many clients as leave 4 descriptors free below the limit (AcceptLoopOptions.DescriptorHeadroom),
// shedding the rest: .NET delivers SIGTERM on a new thread and that thread needs descriptors.
using System.Net;
using Polling.Net;
using WorkerOffload;

int port = 9001;
if (args.Length > 0 && (!int.TryParse(args[0], out port) || port is < 0 or > 65535))
{
    Console.Error.WriteLine($"usage: WorkerOffload [port]   (0..65535, default 9001; got '{args[0]}')");
    return 2;
}

using var server = new WorkerOffloadServer(new IPEndPoint(IPAddress.Loopback, port), new WorkerOffloadOptions { StopOnSignals = true, DescriptorHeadroom = AcceptLoopOptions.SignalHeadroom });
Console.WriteLine($"listening on {server.LocalEndPoint}");
server.Run();
Console.WriteLine($"stopped ({server.StopReason}) after {server.AcceptedConnections} connections and {server.CompletedJobs} jobs (shed {server.ShedConnections})");
return 0;
