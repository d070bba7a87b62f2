namespace Polling.Services;

/// <summary>
/// A filter: a service-shaped step that sits in front of another service — <c>(request, next) =&gt; response</c>.
/// Filters hold what is not the application's business (timeouts, statistics, retries, authentication) and compose
/// with <see cref="AndThen(Service{TNextRequest,TNextResponse})"/>. The types may change on the way through: an
/// authenticating filter takes an <c>HttpRequest</c> and hands the next service an <c>AuthenticatedRequest</c>.
/// </summary>
/// <remarks>
/// <c>filter.AndThen(service)</c> is a <see cref="Service{TRequest,TResponse}"/>; <c>a.AndThen(b)</c> of two filters
/// is a filter. Composition happens once, when the stack is built; a call through a composed stack allocates
/// nothing of its own.
/// </remarks>
/// <example>
/// <code>
/// Service&lt;HttpRequest, HttpResponse&gt; app =
///     stats.AndThen(auth)               // Filter&lt;HttpRequest, HttpResponse, AuthenticatedRequest, HttpResponse&gt;
///          .AndThen(timeout)            // Filter&lt;AuthenticatedRequest, HttpResponse&gt;
///          .AndThen(timeline);          // Service&lt;AuthenticatedRequest, HttpResponse&gt;
/// </code>
/// </example>
/// <typeparam name="TRequest">What the filter is asked.</typeparam>
/// <typeparam name="TResponse">What it answers.</typeparam>
/// <typeparam name="TNextRequest">What it asks the next service.</typeparam>
/// <typeparam name="TNextResponse">What the next service answers.</typeparam>
public abstract class Filter<TRequest, TResponse, TNextRequest, TNextResponse>
{
    /// <summary>Handles <paramref name="request"/>, calling <paramref name="next"/> zero or more times.</summary>
    /// <param name="request">The request.</param>
    /// <param name="next">The rest of the stack.</param>
    public abstract ValueTask<TResponse> InvokeAsync(TRequest request, Service<TNextRequest, TNextResponse> next);

    /// <summary>This filter in front of <paramref name="service"/>: a service.</summary>
    /// <param name="service">The service the filter calls.</param>
    /// <exception cref="ArgumentNullException"><paramref name="service"/> is null.</exception>
    public virtual Service<TRequest, TResponse> AndThen(Service<TNextRequest, TNextResponse> service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return new FilteredService(this, service);
    }

    /// <summary>This filter, then <paramref name="next"/>: a filter from this one's input types to <paramref name="next"/>'s output types.</summary>
    /// <param name="next">The filter that comes after this one.</param>
    /// <typeparam name="TLastRequest">What <paramref name="next"/> asks its service.</typeparam>
    /// <typeparam name="TLastResponse">What that service answers.</typeparam>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> is null.</exception>
    public Filter<TRequest, TResponse, TLastRequest, TLastResponse> AndThen<TLastRequest, TLastResponse>(
        Filter<TNextRequest, TNextResponse, TLastRequest, TLastResponse> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new ComposedFilter<TLastRequest, TLastResponse>(this, next);
    }

    private sealed class FilteredService(Filter<TRequest, TResponse, TNextRequest, TNextResponse> filter, Service<TNextRequest, TNextResponse> next)
        : Service<TRequest, TResponse>
    {
        public override ValueTask<TResponse> InvokeAsync(TRequest request) => filter.InvokeAsync(request, next);
    }

    private sealed class ComposedFilter<TLastRequest, TLastResponse>(
        Filter<TRequest, TResponse, TNextRequest, TNextResponse> first,
        Filter<TNextRequest, TNextResponse, TLastRequest, TLastResponse> second)
        : Filter<TRequest, TResponse, TLastRequest, TLastResponse>
    {
        // Called only when someone invokes the composed filter directly with a service each time (allocates);
        // AndThen below builds the stack once instead.
        public override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TLastRequest, TLastResponse> next) =>
            first.InvokeAsync(request, second.AndThen(next));

        public override Service<TRequest, TResponse> AndThen(Service<TLastRequest, TLastResponse> service)
        {
            ArgumentNullException.ThrowIfNull(service);
            return first.AndThen(second.AndThen(service));
        }
    }
}

/// <summary>A filter that keeps the request and response types: the common case (timeouts, statistics, retries).</summary>
/// <example>
/// <code>
/// sealed class Logging&lt;TReq, TRes&gt; : Filter&lt;TReq, TRes&gt;
/// {
///     public override ValueTask&lt;TRes&gt; InvokeAsync(TReq request, Service&lt;TReq, TRes&gt; next)
///     {
///         Console.WriteLine(request);
///         return next.InvokeAsync(request);
///     }
/// }
/// </code>
/// </example>
/// <typeparam name="TRequest">What the filter and the next service are asked.</typeparam>
/// <typeparam name="TResponse">What they answer.</typeparam>
public abstract class Filter<TRequest, TResponse> : Filter<TRequest, TResponse, TRequest, TResponse>;
