namespace Polling.Services;

/// <summary>
/// A service: an asynchronous function from a request to a response — the one abstraction for both sides of a
/// system boundary ("your server as a function"). A server exposes a service over the network
/// (<see cref="ServiceServer{TRequest,TResponse}"/>); a client is a service that stands for a remote one
/// (<see cref="ServiceClient{TRequest,TResponse}"/>); in tests the same instance is simply called.
/// </summary>
/// <remarks>
/// Return a completed <see cref="ValueTask{TResult}"/> (<c>new(response)</c>) when the answer is known at once: a
/// server on a <see cref="ServiceLoop"/> then encodes it in the same turn of the loop, without allocating and
/// without a thread hop. A service that awaits something returns a pending task; the server posts its result back
/// into the loop when it completes. Failures are exceptions in the returned task (a synchronous throw is treated
/// the same way).
/// </remarks>
/// <example>
/// <code>
/// Service&lt;string, string&gt; upper = Service.From((string s) =&gt; new ValueTask&lt;string&gt;(s.ToUpperInvariant()));
/// string loud = await upper.InvokeAsync("hello");      // "HELLO", in-process
/// </code>
/// </example>
/// <typeparam name="TRequest">What the service is asked.</typeparam>
/// <typeparam name="TResponse">What it answers.</typeparam>
public abstract class Service<TRequest, TResponse>
{
    /// <summary>Answers <paramref name="request"/>: completed at once, or later; faulted for a failure.</summary>
    /// <param name="request">The request.</param>
    public abstract ValueTask<TResponse> InvokeAsync(TRequest request);
}

/// <summary>Factories for services made of plain functions.</summary>
/// <example>
/// <code>
/// var echo = Service.From((string s) =&gt; new ValueTask&lt;string&gt;(s));
/// </code>
/// </example>
public static class Service
{
    /// <summary>A service that calls <paramref name="function"/> for every request.</summary>
    /// <param name="function">The function; it runs on the caller's thread (on a server: the loop thread).</param>
    /// <typeparam name="TRequest">What the service is asked.</typeparam>
    /// <typeparam name="TResponse">What it answers.</typeparam>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is null.</exception>
    public static Service<TRequest, TResponse> From<TRequest, TResponse>(Func<TRequest, ValueTask<TResponse>> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new FunctionService<TRequest, TResponse>(function);
    }

    /// <summary>Calls <paramref name="service"/>, turning a synchronous throw into a faulted task, so callers handle one failure path.</summary>
    internal static ValueTask<TResponse> Call<TRequest, TResponse>(Service<TRequest, TResponse> service, TRequest request)
    {
        try
        {
            return service.InvokeAsync(request);
        }
        catch (Exception error)
        {
            return ValueTask.FromException<TResponse>(error);
        }
    }

    private sealed class FunctionService<TRequest, TResponse>(Func<TRequest, ValueTask<TResponse>> function) : Service<TRequest, TResponse>
    {
        public override ValueTask<TResponse> InvokeAsync(TRequest request) => function(request);
    }
}
