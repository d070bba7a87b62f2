using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Polling.Actors;
using Xunit;

namespace Chat.Tests;

/// <summary>The actor library alone: mailboxes, the receive side's back-pressure, the line framer.</summary>
public class ActorServerTests
{
    [Fact]
    public void An_actor_handles_its_messages_one_at_a_time_in_order_and_a_full_mailbox_refuses()
    {
        var gate = new TaskCompletionSource();
        var seen = new List<int>();
        ActorRef<int> actor = Actor.Spawn(new Recorder(seen, gate.Task), mailboxCapacity: 3);

        Assert.True(actor.TrySend(0));           // taken at once, then held at the gate
        Assert.True(SpinWait.SpinUntil(() => actor.MailboxCount == 0, TimeSpan.FromSeconds(10)));
        Assert.True(actor.TrySend(1) && actor.TrySend(2) && actor.TrySend(3));
        Assert.False(actor.TrySend(4));          // the bound
        Assert.Equal(1, actor.Refused);

        gate.SetResult();
        actor.Complete();
        Assert.True(actor.Completion.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal([0, 1, 2, 3], seen);
    }

    [Fact]
    public void A_full_mailbox_pauses_reading_the_socket_until_the_actor_takes_a_message()
    {
        var gate = new TaskCompletionSource();
        var handled = new List<string>();
        GatedEcho? actor = null;
        using var server = new ActorServer<string, string>(
            new IPEndPoint(IPAddress.Loopback, 0),
            () => new Lines(),
            _ => actor = new GatedEcho(gate.Task, handled),
            new ActorServerOptions { MailboxCapacity = 4 });
        var loop = new Thread(server.Run) { IsBackground = true };
        loop.Start();
        try
        {
            using var client = new LineClient(server.LocalEndPoint);
            client.SendRaw(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i}\n"))));

            // Paused: the mailbox is at its bound, the next message waits in the loop and the socket is not read (the
            // rest of the 100 lines stay in the kernel). Whether the actor has already taken its first message to
            // the gate (6 parsed) or not yet (5) depends on the thread pool.
            Assert.True(
                SpinWait.SpinUntil(() => server.Connections is [{ ReadPaused: true }] && actor?.Self.MailboxCount == 4, TimeSpan.FromSeconds(10)),
                "reading never paused at a full mailbox");
            Assert.InRange(server.Connections[0].MessagesReceived, 5, 6); // (1 at the gate) + 4 in the mailbox + 1 held

            gate.SetResult();
            Assert.Equal("done 99", client.ReadUntil(l => l == "done 99").Last());
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"line {i}"), handled);
            Assert.False(server.Connections[0].ReadPaused);
        }
        finally
        {
            server.Stop();
            loop.Join();
        }
    }

    [Fact]
    public void Shutdown_hands_the_actors_what_was_sent_then_the_disconnect_writes_their_replies_and_ends_in_order()
    {
        var gate = new TaskCompletionSource();
        using var server = new ActorServer<string, string>(new IPEndPoint(IPAddress.Loopback, 0), () => new Lines(), _ => new GatedReplies(gate.Task));
        bool finished = false;
        var loop = new Thread(() =>
        {
            server.Run();
            finished = server.Shutdown(TimeSpan.FromSeconds(10));
        }) { IsBackground = true };
        loop.Start();
        using var client = new LineClient(server.LocalEndPoint);
        client.Send("a");
        Assert.True(SpinWait.SpinUntil(() => server.Connections is [{ MessagesReceived: 1 }], TimeSpan.FromSeconds(10)), "the first line never arrived");
        client.Send("b"); // in the server's socket before the stop: the shutdown reads it

        server.Stop();
        gate.SetResult(); // the actor answers only now, during the shutdown
        Assert.Equal(["echo a", "echo b", "bye"], client.ReadUntil(line => line == "bye"));
        Assert.True(client.ReadsEndOfStream(), "an orderly end of stream after the last reply");
        client.Dispose();
        Assert.True(loop.Join(TimeSpan.FromSeconds(10)), "Shutdown returns once the client has closed");
        Assert.True(finished);
        Assert.Throws<System.Net.Sockets.SocketException>(() => new LineClient(server.LocalEndPoint).Dispose()); // no longer accepting
    }

    [Fact]
    public void A_client_that_resets_costs_only_its_own_connection()
    {
        using var server = new ActorServer<string, string>(new IPEndPoint(IPAddress.Loopback, 0), () => new Lines(), _ => new GatedReplies(Task.CompletedTask));
        var loop = new Thread(server.Run) { IsBackground = true };
        loop.Start();
        try
        {
            using (var doomed = new LineClient(server.LocalEndPoint))
            {
                doomed.Send("x");
                Assert.Equal("echo x", doomed.ReadLine());
                doomed.Send("y");
                doomed.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // close = RST
            }

            using var client = new LineClient(server.LocalEndPoint);
            client.Send("z");
            Assert.Equal("echo z", client.ReadLine());
            Assert.True(SpinWait.SpinUntil(() => server.Connections.Count == 1, TimeSpan.FromSeconds(10)), "the reset connection was not closed");
        }
        finally
        {
            server.Stop();
            loop.Join();
        }
    }

    [Property(MaxTest = 300)]
    public Property Framing_does_not_depend_on_how_the_stream_is_cut()
    {
        Gen<string> lines = Gen.OneOf(
            Gen.Elements("a", "NICK x", string.Empty, "MSG hello"),
            Gen.Choose(4090, 4100).Select(n => new string('q', n)));
        Gen<(List<string> Lines, List<int> Cuts)> scripts =
            from ls in Gen.ListOf(lines)
            from cuts in Gen.ListOf(Gen.Choose(1, 5000))
            select (ls, cuts);

        return Prop.ForAll(scripts.ToArbitrary(), script =>
        {
            byte[] stream = Encoding.ASCII.GetBytes(string.Concat(script.Lines.Select(l => l + "\n")));
            List<string> expected = script.Lines.Select(l => l.Length > 4096 ? "TOO LONG" : l).ToList();
            return Frame(stream, script.Cuts).SequenceEqual(expected);
        });
    }

    /// <summary>Feeds <paramref name="stream"/> in pieces through a LineFramer the way the server's read buffer does.</summary>
    private static List<string> Frame(byte[] stream, List<int> cuts)
    {
        var framer = new LineFramer(4096);
        var found = new List<string>();
        var buffer = new List<byte>();
        int at = 0, cut = 0;
        while (at < stream.Length)
        {
            int take = Math.Min(cuts.Count == 0 ? stream.Length : cuts[cut++ % cuts.Count], stream.Length - at);
            buffer.AddRange(stream.AsSpan(at, take));
            at += take;
            while (buffer.Count > 0)
            {
                LineResult result = framer.Next(buffer.ToArray(), out ReadOnlySpan<byte> line, out int used);
                if (result == LineResult.Line)
                {
                    found.Add(Encoding.ASCII.GetString(line));
                }
                else if (result == LineResult.TooLong)
                {
                    found.Add("TOO LONG");
                }

                buffer.RemoveRange(0, used);
                if (result == LineResult.NeedMore && used == 0)
                {
                    break;
                }
            }
        }

        return found;
    }

    private sealed class Recorder(List<int> seen, Task gate) : Actor<int>
    {
        protected override async ValueTask ReceiveAsync(int message)
        {
            await gate;
            seen.Add(message);
        }
    }

    private sealed class GatedEcho(Task gate, List<string> handled) : ConnectionActor<string, string>
    {
        protected override async ValueTask ReceiveAsync(string message)
        {
            await gate;
            if (message.Length == 0)
            {
                return; // the disconnect message
            }

            handled.Add(message);
            if (message == "line 99")
            {
                Connection.Send("done 99");
            }
        }
    }

    /// <summary>Answers "echo LINE" once the gate is open, and "bye" to the disconnect message.</summary>
    private sealed class GatedReplies(Task gate) : ConnectionActor<string, string>
    {
        protected override async ValueTask ReceiveAsync(string message)
        {
            await gate;
            Connection.Send(message.Length == 0 ? "bye" : $"echo {message}");
        }
    }

    private sealed class Lines : ISocketCodec<string, string>
    {
        private readonly LineFramer _framer = new(1024);

        public bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out string message, out int consumed)
        {
            LineResult result = _framer.Next(input, out ReadOnlySpan<byte> line, out consumed);
            message = result == LineResult.Line ? Encoding.ASCII.GetString(line) : null;
            return message is not null;
        }

        public string Disconnected(DisconnectReason reason) => string.Empty;

        public void Encode(string reply, IBufferWriter<byte> output)
        {
            int n = Encoding.ASCII.GetBytes(reply + "\n", output.GetSpan(reply.Length + 1));
            output.Advance(n);
        }
    }
}
