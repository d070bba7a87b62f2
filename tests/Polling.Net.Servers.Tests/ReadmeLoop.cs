namespace Polling.Net.Servers.Tests;

/// <summary>
/// The README's first loop, verbatim except that it binds port 0, reports its address and stops when asked (the
/// README's runs forever on port 9000). Kept here so that the snippet users copy is compiled and tested.
/// </summary>
internal static class ReadmeLoop
{
    public static void Run(Action<IPEndPoint> listening, Func<bool> running)
    {
        const Token Listener = (Token)0, AcceptRetry = (Token)1;
        using var poll = new Poll();
        using var accept = new AcceptLoop(poll.Registry, TcpListener.Bind(new IPEndPoint(IPAddress.Loopback, 0)), Listener, AcceptRetry);
        listening((IPEndPoint)accept.LocalEndPoint);
        var clients = new ConnectionTable<Client>(firstToken: (Token)16);   // tokens below 16 are ours
        var events = new Events(256);
        var buffer = new byte[64 * 1024];

        while (running())
        {
            poll.Wait(events, TimeSpan.FromMilliseconds(50));
            foreach (Event ev in events)
            {
                switch (ev.Token)
                {
                    case Listener or AcceptRetry:                  // accepts until would-block; survives running out of descriptors
                        while (accept.TryAccept(out TcpStream? stream))
                        {
                            poll.Registry.Register(stream, clients.Add(new Client(stream)), Interest.Readable);
                        }

                        break;
                    default:
                        if (!clients.TryGet(ev.Token, out Client? c))
                        {
                            break;     // closed earlier in this batch
                        }

                        try
                        {
                            if (ev.IsWritable)
                            {
                                c.Output.Flush(c.Stream);
                            }

                            bool open = true;
                            while (!c.Output.IsAboveHighWaterMark && c.Stream.TryRead(buffer, out int n))   // edge: drain
                            {
                                if (n == 0)
                                {
                                    open = false;
                                    break;
                                }

                                c.Output.Write(c.Stream, buffer.AsSpan(0, n));   // echo; what the kernel doesn't take waits
                            }

                            if (c.Output.UpdateInterest(poll.Registry, c.Stream, ev.Token, reading: open) == InterestUpdate.Close)
                            {
                                Close(ev.Token);   // all written, and the client is done
                            }
                        }
                        catch (SocketException)
                        {
                            Close(ev.Token);  // this client reset: drop it, serve the others
                        }

                        break;
                }
            }
        }

        void Close(Token token)
        {
            if (clients.Remove(token, out Client? c))
            {
                c.Output.Clear();
                c.Stream.Dispose();
            }
        }
    }

    private sealed class Client(TcpStream stream)
    {
        public TcpStream Stream { get; } = stream;

        public OutputQueue Output { get; } = new();
    }
}
