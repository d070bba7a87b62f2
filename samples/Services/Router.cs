using System.Text;
using Polling.Services;
using Polling.Services.Http;

namespace ServicesDemo;

/// <summary>
/// The front HTTP service: <c>/ping</c> answers <c>PONG</c> at once (a completed task: no allocation, no hop),
/// <c>/timeline/…</c> goes to the protected stack, <c>/stats</c> reports the statistics, anything else is 404.
/// </summary>
/// <param name="timeline">The stack behind <c>/timeline/</c> (authentication, timeout, timeline).</param>
/// <param name="stats">Describes the statistics for <c>/stats</c>.</param>
public sealed class Router(Service<HttpRequest, HttpResponse> timeline, Func<string> stats) : Service<HttpRequest, HttpResponse>
{
    private static readonly HttpResponse NotFound = HttpResponse.Text(404, "not found\n");
    private static readonly HttpResponse MethodNotAllowed = HttpResponse.Text(405, "only GET\n");

    /// <inheritdoc/>
    public override ValueTask<HttpResponse> InvokeAsync(HttpRequest request)
    {
        if (request.Method != "GET")
        {
            return new ValueTask<HttpResponse>(MethodNotAllowed);
        }

        ReadOnlySpan<byte> path = request.PathBytes;
        if (path.SequenceEqual("/ping"u8))
        {
            return new ValueTask<HttpResponse>(HttpResponse.Pong);
        }

        if (path.StartsWith("/timeline/"u8) && path.Length > "/timeline/"u8.Length)
        {
            return timeline.InvokeAsync(request);
        }

        if (path.SequenceEqual("/stats"u8))
        {
            return new ValueTask<HttpResponse>(new HttpResponse(200, Encoding.UTF8.GetBytes(stats()), "application/json"));
        }

        return new ValueTask<HttpResponse>(NotFound);
    }
}
