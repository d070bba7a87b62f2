using Polling.Services;

namespace Services.Tests;

/// <summary>A service whose answers the test hands out by hand: each request waits until <see cref="Answer"/>.</summary>
internal sealed class HeldService<TRequest, TResponse> : Service<TRequest, TResponse>
{
    private readonly object _lock = new();
    private readonly Queue<(TRequest Request, TaskCompletionSource<TResponse> Answer)> _waiting = new();

    public int Calls { get; private set; }

    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    public override ValueTask<TResponse> InvokeAsync(TRequest request)
    {
        var answer = new TaskCompletionSource<TResponse>();
        lock (_lock)
        {
            Calls++;
            _waiting.Enqueue((request, answer));
        }

        return new ValueTask<TResponse>(answer.Task);
    }

    public TRequest Answer(Func<TRequest, TResponse> response)
    {
        (TRequest request, TaskCompletionSource<TResponse> answer) next;
        lock (_lock)
        {
            next = _waiting.Dequeue();
        }

        next.answer.SetResult(response(next.request));
        return next.request;
    }

    public void Fail(Exception error)
    {
        lock (_lock)
        {
            _waiting.Dequeue().Answer.SetException(error);
        }
    }
}

/// <summary>A service that fails the first <c>failures</c> calls with the given exception, then echoes.</summary>
internal sealed class FlakyService(int failures, Func<Exception> error) : Service<string, string>
{
    public int Calls { get; private set; }

    public override ValueTask<string> InvokeAsync(string request)
    {
        Calls++;
        return Calls <= failures ? ValueTask.FromException<string>(error()) : new ValueTask<string>(request);
    }
}

internal static class Echo
{
    public static Service<string, string> Service { get; } = Polling.Services.Service.From((string s) => new ValueTask<string>(s));
}
