using System.Net;
using Polling.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Chat.Tests;

/// <summary>A chat server on its own loop thread, and raw TCP clients for it.</summary>
public abstract class ChatServerFixture : IDisposable
{
    private protected readonly ChatServer _chat;
    private readonly Thread _loop;
    private readonly List<LineClient> _clients = [];

    protected ChatServerFixture(ITestOutputHelper output, ActorServerOptions? options = null)
    {
        Output = output;
        _chat = new ChatServer(new IPEndPoint(IPAddress.Loopback, 0), options ?? new ActorServerOptions
        {
            // Small, so that a client that never reads congests its connection quickly.
            SendBufferSize = 8 * 1024,
            HighWaterMark = 16 * 1024,
            MailboxCapacity = 16,
            MaxRepliesWaiting = 8,
        });
        _loop = new Thread(_chat.Run) { IsBackground = true, Name = "chat loop" };
        _loop.Start();
    }

    protected ITestOutputHelper Output { get; }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        foreach (LineClient client in _clients)
        {
            client.Dispose();
        }

        _chat.Stop();
        _loop.Join();
        _chat.Dispose();
    }

    private protected LineClient Connect(int? receiveBufferSize = null)
    {
        var client = new LineClient(_chat.LocalEndPoint, receiveBufferSize);
        _clients.Add(client);
        return client;
    }

    private protected LineClient Join(string nick, int? receiveBufferSize = null)
    {
        LineClient client = Connect(receiveBufferSize);
        client.Send($"NICK {nick}");
        Assert.Equal($"WELCOME {nick}", client.ReadLine());
        return client;
    }
}

/// <summary>The chat over real TCP with several raw clients.</summary>
public sealed class ChatTests(ITestOutputHelper output) : ChatServerFixture(output)
{
    [Fact]
    public void A_message_reaches_everyone_else_as_name_colon_text()
    {
        LineClient alice = Join("alice"), bob = Join("bob"), carol = Join("carol");

        alice.Send("MSG hello, world");

        Assert.Equal("alice: hello, world", bob.ReadLine());
        Assert.Equal("alice: hello, world", carol.ReadLine());
        alice.Send("STATS");
        Assert.StartsWith("STATS ", alice.ReadLine()); // alice did not get her own message
    }

    [Fact]
    public void A_private_message_reaches_only_its_target()
    {
        LineClient alice = Join("alice"), bob = Join("bob"), carol = Join("carol");

        alice.Send("PRIVMSG bob meet at noon");
        Assert.Equal("alice (private): meet at noon", bob.ReadLine());

        alice.Send("MSG everyone");
        Assert.Equal("alice: everyone", carol.ReadLine()); // not the private one before it
        Assert.Equal("alice: everyone", bob.ReadLine());

        alice.Send("PRIVMSG nobody hello");
        Assert.Equal("ERROR no such nick nobody", alice.ReadLine());
    }

    [Fact]
    public void Quit_says_bye_closes_and_the_others_see_who_left()
    {
        LineClient alice = Join("alice"), bob = Join("bob"), carol = Join("carol");

        bob.Send("QUIT");
        Assert.Equal("BYE", bob.ReadLine());
        Assert.True(bob.ReadsEndOfStream());
        Assert.Equal("* bob left", alice.ReadLine());
        Assert.Equal("* bob left", carol.ReadLine());
    }

    [Fact]
    public void A_plain_disconnect_is_announced_like_a_quit()
    {
        LineClient alice = Join("alice"), bob = Join("bob");

        bob.Dispose();
        Assert.Equal("* bob left", alice.ReadLine());

        LineClient again = Join("bob"); // the name is free again
        alice.Send("MSG hi bob");
        Assert.Equal("alice: hi bob", again.ReadLine());
    }

    [Fact]
    public void A_line_over_4_KiB_is_answered_with_an_error_and_the_connection_survives()
    {
        LineClient alice = Join("alice"), bob = Join("bob");

        alice.Send("MSG " + new string('x', 5000));
        Assert.Equal("ERROR line too long (the limit is 4096 bytes)", alice.ReadLine());

        // Very long, and in pieces: one error, and the line after it works.
        byte[] huge = System.Text.Encoding.ASCII.GetBytes("MSG " + new string('y', 200_000));
        foreach (byte[] piece in huge.Chunk(7_000))
        {
            alice.SendRaw(piece);
        }

        alice.SendRaw("\n"u8.ToArray()); // the end of the huge line
        alice.Send("MSG still here");
        Assert.Equal("ERROR line too long (the limit is 4096 bytes)", alice.ReadLine());
        Assert.Equal("alice: still here", bob.ReadLine());

        string exactly = "MSG " + new string('z', 4096 - 4);
        alice.Send(exactly);
        Assert.Equal("alice: " + exactly[4..], bob.ReadLine());
    }

    [Fact]
    public void Commands_out_of_place_get_error_lines()
    {
        LineClient anon = Connect();
        anon.Send("MSG hi");
        Assert.Equal("ERROR join first: NICK name", anon.ReadLine());
        anon.Send("HELLO");
        Assert.StartsWith("ERROR unknown command 'HELLO'", anon.ReadLine());
        anon.Send("NICK");
        Assert.StartsWith("ERROR usage: NICK", anon.ReadLine());

        Join("alice");
        anon.Send("NICK alice");
        Assert.Equal("ERROR nick alice is taken", anon.ReadLine());
        anon.Send("NICK alice2");
        Assert.Equal("WELCOME alice2", anon.ReadLine());
        anon.Send("NICK again");
        Assert.Equal("ERROR already joined as alice2", anon.ReadLine());
    }

    [Fact]
    public void A_client_that_never_reads_stops_at_its_bounds_and_the_others_are_not_held_up()
    {
        LineClient alice = Join("alice"), bob = Join("bob");
        LineClient zed = Join("zed", receiveBufferSize: 4096); // reads its WELCOME, then never again

        string text = new('m', 1000);
        const int Messages = 200;                 // 200 KB for zed: far more than every buffer on its way (~60 KB)
        for (int i = 0; i < Messages; i++)
        {
            alice.Send($"MSG {i} {text}");
            Assert.Equal($"alice: {i} {text}", bob.ReadLine()); // bob keeps pace, whatever zed does
        }

        Assert.True(SpinWait.SpinUntil(() => _chat.Room.Dropped > 0, TimeSpan.FromSeconds(10)), "the room never had to skip zed");

        // zed's mailbox stopped at its bound, its unsent bytes at the high-water mark plus what was already in flight.
        ConnectionProgress worst = _chat.Server.Connections.MaxBy(c => c.PendingBytes);
        long bound = (16 * 1024) + ((8 + 1) * 1100);
        Output.WriteLine($"zed: {worst}; room dropped {_chat.Room.Dropped} of {Messages}");
        Assert.InRange(worst.PendingBytes, 0, bound);
        Assert.True(worst.BytesSent < worst.BytesQueued || worst.PendingBytes == 0);

        // When zed reads again it gets what was kept, and with the next message that reaches it, a note of how
        // many it missed. Its reader runs on its own; alice keeps talking (paced by bob) until zed has that note.
        Task<List<string>> zedReads = Task.Run(() => zed.ReadUntil(line => line.EndsWith("messages dropped: you read too slowly", StringComparison.Ordinal)));
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        for (int i = 0; !zedReads.IsCompleted; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, "zed never heard how much it missed");
            alice.Send($"MSG after {i}");
            Assert.Equal($"alice: after {i}", bob.ReadLine());
        }

        List<string> seen = zedReads.Result;
        Assert.True(seen.Count > 1);
        Assert.All(seen[..^1], line => Assert.StartsWith("alice: ", line));
        alice.Send("MSG the end");
        Assert.Equal("alice: the end", zed.ReadUntil(line => line == "alice: the end").Last());
    }
}

/// <summary>Allocation per message, measured with nothing else running.</summary>
[Collection(Serial.Name)]
public sealed class ChatAllocationTests(ITestOutputHelper output) : ChatServerFixture(output)
{
    [Fact]
    public void Allocation_per_chat_message_is_reported()
    {
        LineClient alice = Join("alice"), bob = Join("bob");
        byte[] message = System.Text.Encoding.ASCII.GetBytes("MSG hello there\n");
        byte[] buffer = new byte[4096];
        int expected = "alice: hello there\n".Length;

        void RoundTrip()
        {
            alice.Socket.Send(message);
            int received = 0;
            while (received < expected)
            {
                received += bob.Socket.Receive(buffer, received, buffer.Length - received, System.Net.Sockets.SocketFlags.None);
            }
        }

        for (int i = 0; i < 300; i++)
        {
            RoundTrip();
        }

        const int Count = 2000;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < Count; i++)
        {
            RoundTrip();
        }

        double perMessage = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / Count;
        Output.WriteLine($"process-wide allocation per chat message (parse, 3 actor hops, encode, write): {perMessage:0} B");
        Assert.True(perMessage > 0);
    }
}
