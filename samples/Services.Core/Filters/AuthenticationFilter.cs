namespace Polling.Services;

/// <summary>
/// Lets only authenticated requests through, and changes their type on the way: the next service receives a
/// <typeparamref name="TAuthenticated"/> (say, an <c>AuthenticatedRequest</c> carrying the user), so it cannot be
/// called with a request nobody checked. Rejected requests are answered with <see cref="Reject"/> and never reach it.
/// </summary>
/// <remarks>
/// Derive and implement <see cref="AuthenticateAsync"/> (return <see langword="null"/> to reject; it may ask an
/// authentication service) and <see cref="Reject"/>. <c>BearerAuthenticationFilter</c> is the HTTP one.
/// </remarks>
/// <example>
/// <code>
/// sealed class ApiKeys : AuthenticationFilter&lt;string, (string User, string Query), string&gt;
/// { ... }
/// Service&lt;string, string&gt; guarded = new ApiKeys().AndThen(queries);
/// </code>
/// </example>
/// <typeparam name="TRequest">What arrives.</typeparam>
/// <typeparam name="TAuthenticated">What the next service is given: proof of who asked.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public abstract class AuthenticationFilter<TRequest, TAuthenticated, TResponse> : Filter<TRequest, TResponse, TAuthenticated, TResponse>
    where TAuthenticated : class
{
    private long _rejected;

    /// <summary>Requests rejected.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <inheritdoc/>
    public sealed override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TAuthenticated, TResponse> next)
    {
        ValueTask<TAuthenticated?> check;
        try
        {
            check = AuthenticateAsync(request);
        }
        catch (Exception error)
        {
            return ValueTask.FromException<TResponse>(error);
        }

        if (check.IsCompletedSuccessfully)
        {
            return Continue(request, check.Result, next);
        }

        return ContinueAsync(request, check, next);
    }

    /// <summary>Checks <paramref name="request"/>: the authenticated form, or <see langword="null"/> to reject it.</summary>
    /// <param name="request">The request as it arrived.</param>
    protected abstract ValueTask<TAuthenticated?> AuthenticateAsync(TRequest request);

    /// <summary>The answer to a rejected request (e.g. HTTP 401).</summary>
    /// <param name="request">The rejected request.</param>
    protected abstract TResponse Reject(TRequest request);

    private ValueTask<TResponse> Continue(TRequest request, TAuthenticated? authenticated, Service<TAuthenticated, TResponse> next)
    {
        if (authenticated is null)
        {
            Interlocked.Increment(ref _rejected);
            return new ValueTask<TResponse>(Reject(request));
        }

        return Service.Call(next, authenticated);
    }

    private async ValueTask<TResponse> ContinueAsync(TRequest request, ValueTask<TAuthenticated?> check, Service<TAuthenticated, TResponse> next) =>
        await Continue(request, await check.ConfigureAwait(false), next).ConfigureAwait(false);
}
