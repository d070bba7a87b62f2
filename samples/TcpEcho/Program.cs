// TcpEcho: a production echo server on Polling's server building blocks (AcceptLoop, ConnectionTable,
// OutputQueue, IdleTimeouts).
//   dotnet run -c Release --project samples/TcpEcho -- [port] [--backend epoll|poll] [--trigger edge|level]
//                                                      [--remedy shed|pause] [--idle-timeout SECONDS] [--loops N]
//                                                      [--descriptor-headroom N]
// port defaults to 9000 (0 picks a free port). Prints "listening on 127.0.0.1:PORT" once it accepts; SIGINT or
// SIGTERM stops accepting, lets every client take its pending echo, closes, and exits with code 0.
// --descriptor-headroom N (default 4, 0 = off): hold only as many clients as leave N descriptors free below the limit,
// shedding the rest, because .NET starts a new thread to deliver SIGTERM and that thread needs descriptors: at the
// limit the process would abort ("Out of memory.") instead of exiting (AcceptLoopOptions.DescriptorHeadroom). With
// --loops N every loop counts the whole process's free descriptors, so the headroom is kept only with one loop.
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Polling;
using Polling.Net;
using TcpEcho;

const string Usage = "usage: TcpEcho [port] [--backend epoll|poll] [--trigger edge|level] [--remedy shed|pause] [--idle-timeout SECONDS] [--loops N] [--descriptor-headroom N]";
int port = 9000;
var options = new EchoServerOptions { DescriptorHeadroom = AcceptLoopOptions.SignalHeadroom };
int loops = 1;
for (int i = 0; i < args.Length; i++)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--backend" when value is "epoll" or "poll":
            options = options with { Backend = value == "poll" ? PollBackend.Poll : PollBackend.Epoll };
            i++;
            break;
        case "--trigger" when value is "edge" or "level":
            options = options with { Trigger = value == "level" ? Trigger.Level : Trigger.Edge };
            i++;
            break;
        case "--remedy" when value is "shed" or "pause":
            options = options with { Remedy = value == "pause" ? AcceptExhaustionRemedy.Pause : AcceptExhaustionRemedy.ShedWithReserve };
            i++;
            break;
        case "--descriptor-headroom" when int.TryParse(value, out int headroom) && headroom >= 0:
            options = options with { DescriptorHeadroom = headroom == 0 ? null : headroom };
            i++;
            break;
        case "--loops" when int.TryParse(value, out int count) && count is >= 1 and <= 1024:
            loops = count;
            i++;
            break;
        case "--idle-timeout" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0:
            options = options with { IdleTimeout = TimeSpan.FromSeconds(seconds) };
            i++;
            break;
        default:
            if (i == 0 && int.TryParse(args[0], out port) && port is >= 0 and <= 65535)
            {
                break;
            }

            Console.Error.WriteLine($"{Usage}\n(port 0..65535, default 9000; could not understand '{args[i]}')");
            return 2;
    }
}

// --loops N: N event loops on N threads, each with its own SO_REUSEPORT listener on the port (EchoLoops).
using var server = new EchoLoops(new IPEndPoint(IPAddress.Loopback, port), loops, options);

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
Console.WriteLine($"stopped after {server.AcceptedConnections} connections (shed {server.ShedConnections}, accept exhaustions {server.AcceptExhaustions}, idle-closed {server.IdleClosedConnections})");
return 0;
