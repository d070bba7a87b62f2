// Chat: actors over sockets on Polling. Each connection is an actor with a mailbox; a room actor knows who is here.
//   dotnet run -c Release --project samples/Chat -- PORT
//   nc 127.0.0.1 PORT      then:  NICK alice | MSG hello | PRIVMSG bob psst | STATS | QUIT
// Others see "alice: hello", bob sees "alice (private): psst", everyone sees "* alice left" when she goes.
// Prints "listening on 127.0.0.1:PORT"; SIGINT or SIGTERM stops it with exit code 0: it stops accepting, every session
// answers what it was sent, and the connections close in order (within 5 s).
using System.Net;
using System.Runtime.InteropServices;
using Chat;
using Polling.Actors;
using Polling.Net;

if (args.Length != 1 || !int.TryParse(args[0], out int port) || port is < 0 or > 65535)
{
    Console.Error.WriteLine("usage: Chat PORT   (0..65535; 0 picks a free port)");
    return 2;
}

// Keep a few descriptors free below the limit (the connection cap sheds the clients beyond it): actors run on the thread
// pool, and starting a thread, e.g. the runtime's signal-handling thread at SIGTERM, opens files.
using var chat = new ChatServer(new IPEndPoint(IPAddress.Loopback, port), new ActorServerOptions { DescriptorHeadroom = AcceptLoopOptions.SignalHeadroom });

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    chat.Stop();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

Console.WriteLine($"listening on {chat.LocalEndPoint}");
chat.Run();
bool finished = chat.Shutdown(TimeSpan.FromSeconds(5));
Console.WriteLine($"stopped after {chat.Server.AcceptedConnections} connections (shed {chat.Server.ShedConnections}){(finished ? "" : "; not all finished within 5 s: closed the rest")}");
return 0;
