using System.Buffers.Text;

namespace Polling.Services.Http;

/// <summary>Parses one HTTP/1.1 request (request line, headers, Content-Length body) into an <see cref="HttpRequest"/>.</summary>
internal static class HttpParser
{
    internal const int MaxHeadLength = 16 * 1024;
    internal const int MaxBodyLength = 1 << 20;

    /// <summary>True with the request filled in and the bytes used; false when incomplete; ProtocolException when malformed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> input, HttpRequest request, out int consumed)
    {
        consumed = 0;
        int headEnd = input.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            if (input.Length > MaxHeadLength)
            {
                throw new ProtocolException(431, "request head longer than 16 KiB");
            }

            return false;
        }

        int headLength = headEnd + 4;
        ReadOnlySpan<byte> head = input[..headLength];

        // Content-Length first, to know how much to copy.
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> requestLine = head[..lineEnd];
        long contentLength = 0;
        bool keepAlive = true;
        int position = lineEnd + 2;
        while (position < headEnd)
        {
            int end = head[position..].IndexOf("\r\n"u8) + position;
            ReadOnlySpan<byte> line = head[position..end];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new ProtocolException(400, "header line without a name and ':'");
            }

            ReadOnlySpan<byte> name = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim((byte)' ');
            if (System.Text.Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out int used) || used != value.Length || contentLength < 0)
                {
                    throw new ProtocolException(400, "Content-Length is not a number");
                }
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                throw new ProtocolException(501, "Transfer-Encoding is not supported; send Content-Length");
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                keepAlive = !System.Text.Ascii.EqualsIgnoreCase(value, "close"u8);
            }

            position = end + 2;
        }

        if (contentLength > MaxBodyLength)
        {
            throw new ProtocolException(413, "body longer than 1 MiB");
        }

        int total = headLength + (int)contentLength;
        if (input.Length < total)
        {
            return false;
        }

        Span<byte> data = request.Reset(total);
        input[..total].CopyTo(data);

        // Request line: METHOD SP target SP HTTP/1.x
        int firstSpace = requestLine.IndexOf((byte)' ');
        int lastSpace = requestLine.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1 || !requestLine[(lastSpace + 1)..].StartsWith("HTTP/1."u8))
        {
            throw new ProtocolException(400, "request line is not 'METHOD target HTTP/1.x'");
        }

        if (requestLine[(lastSpace + 1)..].SequenceEqual("HTTP/1.0"u8))
        {
            keepAlive = false;
        }

        ReadOnlySpan<byte> target = requestLine[(firstSpace + 1)..lastSpace];
        int question = target.IndexOf((byte)'?');
        request.SetRequestLine(MethodOf(requestLine[..firstSpace]), firstSpace + 1, target.Length, question < 0 ? target.Length : question);

        position = lineEnd + 2;
        while (position < headEnd)
        {
            int end = head[position..].IndexOf("\r\n"u8) + position;
            ReadOnlySpan<byte> line = head[position..end];
            int colon = line.IndexOf((byte)':');
            int valueStart = colon + 1;
            while (valueStart < line.Length && line[valueStart] == ' ')
            {
                valueStart++;
            }

            int valueEnd = line.Length;
            while (valueEnd > valueStart && line[valueEnd - 1] == ' ')
            {
                valueEnd--;
            }

            if (!request.AddHeader(position, colon, position + valueStart, valueEnd - valueStart))
            {
                throw new ProtocolException(431, "more than 64 headers");
            }

            position = end + 2;
        }

        request.SetBody(headLength, (int)contentLength);
        request.SetKeepAlive(keepAlive);
        consumed = total;
        return true;
    }

    private static string MethodOf(ReadOnlySpan<byte> method) => method switch
    {
        _ when method.SequenceEqual("GET"u8) => "GET",
        _ when method.SequenceEqual("POST"u8) => "POST",
        _ when method.SequenceEqual("PUT"u8) => "PUT",
        _ when method.SequenceEqual("DELETE"u8) => "DELETE",
        _ when method.SequenceEqual("HEAD"u8) => "HEAD",
        _ => System.Text.Encoding.ASCII.GetString(method),
    };
}
