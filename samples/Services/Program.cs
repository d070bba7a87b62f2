// Services: "your server as a function" on Polling. An HTTP front and two backends (user, post) it starts
// itself on other loopback ports and reaches through clients of the same Service type.
//   dotnet run -c Release --project samples/Services -- PORT
//   curl -s 127.0.0.1:PORT/ping                                                  -> PONG
//   curl -si 127.0.0.1:PORT/timeline/alice                                       -> 401
//   curl -s -H 'Authorization: Bearer demo' 127.0.0.1:PORT/timeline/alice         -> {"user":"alice","posts":[...]}
//   curl -si -H 'Authorization: Bearer demo' '127.0.0.1:PORT/timeline/alice?delay=3000'   -> 504 after 1 s
//   curl -s 127.0.0.1:PORT/stats                                                 -> per-service statistics
// Prints "listening on 127.0.0.1:PORT"; SIGINT or SIGTERM stops it with exit code 0: it stops accepting, answers the
// requests its clients have sent, and closes the connections in order (within 5 s). The front keeps descriptors free
// below the limit (ServicesApp.FrontDescriptorHeadroom), so SIGTERM and the backend pools find some at the limit.
using System.Runtime.InteropServices;
using ServicesDemo;

if (args.Length != 1 || !int.TryParse(args[0], out int port) || port is < 0 or > 65535)
{
    Console.Error.WriteLine("usage: Services PORT   (0..65535; 0 picks a free port)");
    return 2;
}

// Made on this thread, which then runs the front loop: the loop thread is the only one touching its sockets.
using var app = new ServicesApp(port);

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;   // exit on our own, with code 0
    app.Stop();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

Console.WriteLine($"listening on {app.LocalEndPoint}");
app.Run();
bool finished = app.Shutdown(TimeSpan.FromSeconds(5));
Console.WriteLine($"stopped after {app.Http.AcceptedConnections} connections (shed {app.Http.ShedConnections}){(finished ? "" : "; not all finished within 5 s: closed the rest")}");
return 0;
