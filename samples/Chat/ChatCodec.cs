using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Polling.Actors;

namespace Chat;

/// <summary>
/// The chat line protocol: UTF-8 lines ending in '\n' (a '\r' before it is ignored), at most 4 KiB; a longer line
/// becomes an <see cref="Invalid"/> message (answered with an error line) and is skipped, the connection survives.
/// Commands: <c>NICK name</c>, <c>MSG text</c>, <c>PRIVMSG nick text</c>, <c>QUIT</c>, <c>STATS</c>.
/// </summary>
public sealed class ChatCodec : ISocketCodec<SessionMessage, string>
{
    /// <summary>The longest line accepted, in bytes.</summary>
    public const int MaxLine = 4096;

    private static readonly Quit QuitMessage = new();
    private static readonly Stats StatsMessage = new();
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly LineFramer _framer = new(MaxLine);

    /// <summary>
    /// Runs every kind of line and reply through a scratch codec, so that what this code loads lazily (System.Linq,
    /// System.Text.Encoding.Extensions) is loaded now. Call it before the server accepts anyone: the loop may parse
    /// the first line only after it accepted clients up to the descriptor cap, and a load then fails
    /// ("Could not load file or assembly", which ended the process).
    /// </summary>
    public static void Warmup()
    {
        var codec = new ChatCodec();
        byte[] overlong = new byte[MaxLine + 16];
        overlong.AsSpan().Fill((byte)'x');
        overlong[^1] = (byte)'\n';
        byte[][] inputs =
        [
            Encoding.UTF8.GetBytes("NICK warm\nNICK \nMSG hi\nMSG\nPRIVMSG warm hi\nPRIVMSG x\nQUIT\nSTATS\nWARM\r\n"),
            [0xFF, 0xFE, (byte)'\n'],
            overlong,
        ];
        foreach (byte[] input in inputs)
        {
            for (int at = 0, consumed = 1; at < input.Length && consumed > 0; at += consumed)
            {
                _ = codec.TryDecode(input.AsSpan(at), out _, out consumed);
            }
        }

        var output = new ArrayBufferWriter<byte>();
        codec.Encode("WELCOME warm", output);
        codec.Encode(new string('x', 20 * 1024), output); // longer than a chunk
        _ = codec.Disconnected(DisconnectReason.PeerClosed);
    }

    /// <inheritdoc/>
    public bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out SessionMessage message, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            LineResult result = _framer.Next(input[consumed..], out ReadOnlySpan<byte> line, out int used);
            consumed += used;
            switch (result)
            {
                case LineResult.Line:
                    message = Parse(line);
                    return true;
                case LineResult.TooLong:
                    message = new Invalid($"line too long (the limit is {MaxLine} bytes)");
                    return true;
                default:
                    if (used == 0 || consumed == input.Length)
                    {
                        message = null;
                        return false;
                    }

                    break; // skipped the end of an overlong line: look for the next one
            }
        }
    }

    /// <inheritdoc/>
    public SessionMessage Disconnected(DisconnectReason reason) => new Disconnected(reason);

    /// <inheritdoc/>
    public void Encode(string reply, IBufferWriter<byte> output)
    {
        int length = Encoding.UTF8.GetByteCount(reply);
        Span<byte> span = output.GetSpan(Math.Min(length + 1, 16 * 1024));
        if (length + 1 <= span.Length)
        {
            Encoding.UTF8.GetBytes(reply, span);
            span[length] = (byte)'\n';
            output.Advance(length + 1);
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(reply + "\n"); // longer than a chunk: rare
        foreach (byte[] part in bytes.Chunk(8 * 1024))
        {
            part.CopyTo(output.GetSpan(part.Length));
            output.Advance(part.Length);
        }
    }

    private static SessionMessage Parse(ReadOnlySpan<byte> bytes)
    {
        string line;
        try
        {
            line = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return new Invalid("line is not UTF-8");
        }

        int space = line.IndexOf(' ');
        string command = space < 0 ? line : line[..space];
        string rest = space < 0 ? string.Empty : line[(space + 1)..];
        switch (command)
        {
            case "NICK":
                return IsValidNick(rest) ? new Nick(rest) : new Invalid("usage: NICK name (1 to 32 characters, no spaces)");
            case "MSG":
                return rest.Length > 0 ? new Say(rest) : new Invalid("usage: MSG text");
            case "PRIVMSG":
                int split = rest.IndexOf(' ');
                return split > 0 && split < rest.Length - 1
                    ? new Whisper(rest[..split], rest[(split + 1)..])
                    : new Invalid("usage: PRIVMSG nick text");
            case "QUIT":
                return QuitMessage;
            case "STATS":
                return StatsMessage;
            default:
                return new Invalid($"unknown command '{(command.Length > 32 ? command[..32] : command)}' (NICK, MSG, PRIVMSG, QUIT, STATS)");
        }
    }

    private static bool IsValidNick(string nick) =>
        nick.Length is > 0 and <= 32 && !nick.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
}
