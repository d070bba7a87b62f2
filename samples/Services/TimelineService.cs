using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Polling.Services;
using Polling.Services.Http;

namespace ServicesDemo;

/// <summary>
/// <c>GET /timeline/{user}[?delay=MS]</c> for an authenticated request: asks the user backend and the post backend
/// at the same time (fan out), waits for both (collect), and answers
/// <c>{"user": "&lt;id&gt;", "posts": [...]}</c>. It only knows two <see cref="Service{TRequest,TResponse}"/>s:
/// in tests they are the backend objects themselves, in the demo clients over TCP.
/// </summary>
/// <param name="users">The user backend.</param>
/// <param name="posts">The post backend.</param>
public sealed class TimelineService(Service<string, string> users, Service<string, string> posts) : Service<AuthenticatedRequest, HttpResponse>
{
    private static readonly HttpResponse NotFound = HttpResponse.Text(404, "no such user\n");
    private static readonly HttpResponse BadDelay = HttpResponse.Text(400, "delay must be 0 to 60000 ms\n");

    /// <inheritdoc/>
    public override async ValueTask<HttpResponse> InvokeAsync(AuthenticatedRequest request)
    {
        string id = request.Request.Path["/timeline/".Length..];
        string? delayText = request.Request.GetQuery("delay");
        int delay = 0;
        if (delayText is not null && (!int.TryParse(delayText, NumberStyles.None, CultureInfo.InvariantCulture, out delay) || delay > 60_000))
        {
            return BadDelay;
        }

        ValueTask<string> user = users.InvokeAsync(id);                                   // fan out ...
        ValueTask<string> timeline = posts.InvokeAsync(delay > 0 ? $"{id} {delay}" : id);
        string canonical = await user;                                                   // ... then collect
        string postsJson = await timeline;
        if (canonical.Length == 0)
        {
            return NotFound;
        }

        var body = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("user", canonical);
            json.WritePropertyName("posts");
            json.WriteRawValue(postsJson);
            json.WriteEndObject();
        }

        return new HttpResponse(200, body.WrittenMemory, "application/json");
    }
}
