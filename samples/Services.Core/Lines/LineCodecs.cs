using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Polling.Services.Lines;

/// <summary>Shared rules of the line protocol: one UTF-8 line per request and per response, "\n"-terminated, at most 64 KiB.</summary>
internal static class LineFormat
{
    public const int MaxLine = 64 * 1024;

    public static bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out string line, out int consumed)
    {
        int end = input.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (input.Length > MaxLine)
            {
                throw new ProtocolException(0, "line longer than 64 KiB");
            }

            line = null;
            consumed = 0;
            return false;
        }

        consumed = end + 1;
        line = Encoding.UTF8.GetString(input[..end].TrimEnd((byte)'\r'));
        return true;
    }

    public static void Encode(string line, IBufferWriter<byte> output)
    {
        int length = Encoding.UTF8.GetByteCount(line);
        Span<byte> span = output.GetSpan(length + 1);
        Encoding.UTF8.GetBytes(line, span);
        span[length] = (byte)'\n';
        output.Advance(length + 1);
    }
}

/// <summary>
/// A line protocol for a <see cref="ServiceServer{TRequest,TResponse}"/> of strings: each request is one UTF-8 line,
/// each answer one line (a failure is answered <c>ERR &lt;message&gt;</c>). Line breaks inside a response are the
/// service's mistake: replace them before answering.
/// </summary>
/// <example>
/// <code>
/// using var users = new ServiceServer&lt;string, string&gt;(loop, endpoint, new LineServerCodec(), userService);
/// // printf 'alice\n' | nc 127.0.0.1 PORT
/// </code>
/// </example>
public sealed class LineServerCodec : ServerCodec<string, string>
{
    /// <inheritdoc/>
    public override bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out string request, out int consumed) =>
        LineFormat.TryDecode(input, out request, out consumed);

    /// <inheritdoc/>
    public override bool Encode(string request, string response, IBufferWriter<byte> output)
    {
        LineFormat.Encode(response, output);
        return true;
    }

    /// <inheritdoc/>
    public override bool EncodeFailure(string request, Exception error, IBufferWriter<byte> output)
    {
        LineFormat.Encode("ERR " + error.Message.ReplaceLineEndings(" "), output);
        return true;
    }

    /// <inheritdoc/>
    public override void EncodeProtocolError(ProtocolException error, IBufferWriter<byte> output) =>
        LineFormat.Encode("ERR " + error.Message, output);
}

/// <summary>The client side of <see cref="LineServerCodec"/>: a <see cref="ServiceClient{TRequest,TResponse}"/> of strings.</summary>
/// <example>
/// <code>
/// using var users = new ServiceClient&lt;string, string&gt;(loop, [userEndpoint], new LineClientCodec());
/// string id = await users.InvokeAsync("alice");
/// </code>
/// </example>
public sealed class LineClientCodec : ClientCodec<string, string>
{
    /// <inheritdoc/>
    public override void Encode(string request, IBufferWriter<byte> output) => LineFormat.Encode(request, output);

    /// <inheritdoc/>
    public override bool TryDecode(ReadOnlySpan<byte> input, [MaybeNullWhen(false)] out string response, out int consumed) =>
        LineFormat.TryDecode(input, out response, out consumed);
}
