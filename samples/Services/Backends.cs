using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Polling.Services;

namespace ServicesDemo;

/// <summary>
/// The user backend: request = a user id, answer = the id in canonical (lower-case) form, or an empty line for an
/// id that is not valid (1 to 32 letters, digits, '-' or '_'). Answers synchronously.
/// </summary>
public sealed class UserService : Service<string, string>
{
    /// <inheritdoc/>
    public override ValueTask<string> InvokeAsync(string request)
    {
        bool valid = request.Length is > 0 and <= 32 && request.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
        return new ValueTask<string>(valid ? request.ToLowerInvariant() : string.Empty);
    }
}

/// <summary>
/// The post backend: request = "&lt;user&gt;" or "&lt;user&gt; &lt;delay ms&gt;", answer = a JSON array of that user's
/// posts, after the delay (on the timer it is given: its loop's timer wheel, no thread involved).
/// </summary>
/// <param name="timer">Where delays are scheduled.</param>
public sealed class PostService(IServiceTimer timer) : Service<string, string>
{
    private static readonly string[] Topics = ["event loops", "epoll", "services as functions", "filters", "actors", "back-pressure"];

    /// <summary>The posts of <paramref name="user"/>, as a JSON array (three of them, made up from the name).</summary>
    /// <param name="user">The user id.</param>
    public static string PostsOf(string user)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            int seed = user.Sum(c => c);
            for (int i = 0; i < 3; i++)
            {
                json.WriteStringValue($"{user} on {Topics[(seed + i) % Topics.Length]} (#{i + 1})");
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <inheritdoc/>
    public override ValueTask<string> InvokeAsync(string request)
    {
        int space = request.IndexOf(' ');
        string user = space < 0 ? request : request[..space];
        int delay = space < 0 ? 0 : int.Parse(request.AsSpan(space + 1), CultureInfo.InvariantCulture);
        return delay <= 0 ? new ValueTask<string>(PostsOf(user)) : Later(user, delay);
    }

    private async ValueTask<string> Later(string user, int delay)
    {
        await timer.Delay(TimeSpan.FromMilliseconds(delay));
        return PostsOf(user);
    }
}
