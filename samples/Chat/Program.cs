// Chat: actors over sockets on Polling. Each connection is an actor with a mailbox; a room actor knows who is here.
//   dotnet run -c Release --project samples/Chat -- PORT
//   nc 127.0.0.1 PORT      then:  NICK alice | MSG hello | PRIVMSG bob psst | STATS | QUIT
// Others see "alice: hello", bob sees "alice (private): psst", everyone sees "* alice left" when she goes.
// Prints "listening on 127.0.0.1:PORT"; SIGINT or SIGTERM stops it with exit code 0.
using System.Net;
using System.Runtime.InteropServices;
using Chat;

if (args.Length != 1 || !int.TryParse(args[0], out int port) || port is < 0 or > 65535)
{
    Console.Error.WriteLine("usage: Chat PORT   (0..65535; 0 picks a free port)");
    return 2;
}

using var chat = new ChatServer(new IPEndPoint(IPAddress.Loopback, port));

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    chat.Stop();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

Console.WriteLine($"listening on {chat.LocalEndPoint}");
chat.Run();
Console.WriteLine($"stopped after {chat.Server.AcceptedConnections} connections");
return 0;
