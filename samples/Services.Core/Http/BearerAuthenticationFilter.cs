using System.Text;

namespace Polling.Services.Http;

/// <summary>An HTTP request that passed authentication, with who sent it. What the services behind a <see cref="BearerAuthenticationFilter"/> take.</summary>
/// <param name="Request">The request as it arrived.</param>
/// <param name="User">Who sent it.</param>
/// <example>
/// <code>
/// Service&lt;AuthenticatedRequest, HttpResponse&gt; whoami =
///     Service.From((AuthenticatedRequest r) =&gt; new ValueTask&lt;HttpResponse&gt;(HttpResponse.Text(200, r.User)));
/// </code>
/// </example>
public sealed record AuthenticatedRequest(HttpRequest Request, string User);

/// <summary>
/// Accepts requests with <c>Authorization: Bearer &lt;token&gt;</c> for a known token and hands the next service an
/// <see cref="AuthenticatedRequest"/>; answers the others <c>401</c> with <c>WWW-Authenticate: Bearer</c>.
/// </summary>
/// <example>
/// <code>
/// var auth = new BearerAuthenticationFilter(new Dictionary&lt;string, string&gt; { ["demo"] = "demo-user" });
/// Service&lt;HttpRequest, HttpResponse&gt; guarded = auth.AndThen(timeline);
/// </code>
/// </example>
public sealed class BearerAuthenticationFilter : AuthenticationFilter<HttpRequest, AuthenticatedRequest, HttpResponse>
{
    private static readonly HttpResponse Unauthorized =
        new(401, "missing or unknown bearer token\n"u8.ToArray(), extraHeaders: "WWW-Authenticate: Bearer");

    private readonly (byte[] Token, string User)[] _tokens;

    /// <summary>Creates the filter.</summary>
    /// <param name="tokens">Token → user name.</param>
    public BearerAuthenticationFilter(IReadOnlyDictionary<string, string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens.Select(t => (Encoding.UTF8.GetBytes(t.Key), t.Value)).ToArray();
    }

    /// <inheritdoc/>
    protected override ValueTask<AuthenticatedRequest?> AuthenticateAsync(HttpRequest request)
    {
        if (request.TryGetHeader("Authorization"u8, out ReadOnlySpan<byte> value) && value.StartsWith("Bearer "u8))
        {
            ReadOnlySpan<byte> token = value["Bearer "u8.Length..].Trim((byte)' ');
            foreach ((byte[] known, string user) in _tokens)
            {
                if (token.SequenceEqual(known))
                {
                    return new ValueTask<AuthenticatedRequest?>(new AuthenticatedRequest(request, user));
                }
            }
        }

        return new ValueTask<AuthenticatedRequest?>((AuthenticatedRequest?)null);
    }

    /// <inheritdoc/>
    protected override HttpResponse Reject(HttpRequest request) => Unauthorized;
}
