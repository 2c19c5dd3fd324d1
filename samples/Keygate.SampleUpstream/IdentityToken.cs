using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keygate.SampleUpstream;

/// <summary>
/// Trust in Keygate's identity token (contract A7) and nothing else: the framework's JWT bearer handler, ES256 only,
/// Keygate's issuer and audience, a short clock skew, and the public keys from Keygate's JWKS.
/// </summary>
public static class IdentityToken
{
    public static IServiceCollection AddKeygateIdentityToken(this IServiceCollection services, UpstreamOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Issuer))
            throw new InvalidOperationException("Set Upstream:Issuer to Keygate's Keygate:Gateway:Issuer (by default Keygate's public base URL).");
        var jwks = new Uri(options.JwksUrl ?? options.Issuer.TrimEnd('/') + "/.well-known/jwks.json");
        // Whoever can change the JWKS in transit can mint tokens for any org: plain HTTP only on this machine.
        if (jwks.Scheme != Uri.UriSchemeHttps && !jwks.IsLoopback && options.RequireHttpsJwks)
            throw new InvalidOperationException("Upstream:JwksUrl must be https (or loopback); set Upstream:RequireHttpsJwks=false only on a private network.");

        services.AddHttpClient(SigningKeys.HttpClientName, c =>
        {
            c.Timeout = TimeSpan.FromSeconds(5);
            c.MaxResponseContentBufferSize = 64 * 1024;
        });
        services.AddSingleton(sp => new SigningKeys(sp.GetRequiredService<IHttpClientFactory>().CreateClient(SigningKeys.HttpClientName),
            jwks, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SigningKeys>>()));

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<SigningKeys>((o, keys) =>
        {
            o.MapInboundClaims = false; // keep "sub", "org_id", "role" as Keygate names them
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = options.Issuer,
                ValidAudience = options.Audience,
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                IssuerSigningKeyResolver = (_, _, kid, _) => keys.Find(kid),
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = Claims.LoginName,
                RoleClaimType = Claims.Role,
            };
            o.Events = new JwtBearerEvents
            {
                // The key resolver above is synchronous, so a key Keygate has just started to use is fetched here,
                // before the handler validates the token.
                OnMessageReceived = ctx => keys.PrepareAsync(KidOf(ctx.Request), ctx.HttpContext.RequestAborted),
                OnTokenValidated = ctx =>
                {
                    if (Caller.From(ctx.Principal!) is null) ctx.Fail("The token lacks sub, org_id or jti.");
                    return Task.CompletedTask;
                },
            };
        });
        // Every endpoint needs the token unless it says AllowAnonymous (health, the OpenAPI document).
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return services;
    }

    private static string? KidOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            return new JsonWebToken(header["Bearer ".Length..].Trim()).Kid;
        }
        catch (ArgumentException)
        {
            return null; // not a JWT: the handler refuses it
        }
    }
}

/// <summary>
/// Keygate's public signing keys. Fetched on first use, again when a token names a key id not seen yet (Keygate has
/// rotated), and again once they are five minutes old, so a key Keygate stopped listing stops being trusted.
/// </summary>
public sealed class SigningKeys(HttpClient http, Uri jwks, TimeProvider clock, ILogger<SigningKeys> log)
{
    public const string HttpClientName = "keygate-jwks";
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    // Made-up key ids must not turn this service into a JWKS hammer: at most one fetch a second for unknown ids,
    // and one a second for stale keys (which also paces retries while Keygate is unreachable).
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile KeySet _current = new([], DateTimeOffset.MinValue);
    private DateTimeOffset _lastFetch = DateTimeOffset.MinValue;
    private DateTimeOffset _lastUnknownKidFetch = DateTimeOffset.MinValue;

    private sealed record KeySet(IReadOnlyList<JsonWebKey> Keys, DateTimeOffset FetchedAt)
    {
        public bool Has(string kid) => Keys.Any(k => k.KeyId == kid);
    }

    public IEnumerable<SecurityKey> Find(string? kid) => _current.Keys.Where(k => k.KeyId == kid);

    public async Task PrepareAsync(string? kid, CancellationToken ct)
    {
        if (kid is null) return; // Keygate always names the key; the handler refuses such a token.
        var known = _current.Has(kid);
        if (known && !IsStale(clock.GetUtcNow())) return;
        // A known key that is merely old does not wait for a fetch another request is making.
        if (!await _gate.WaitAsync(known ? TimeSpan.Zero : Timeout.InfiniteTimeSpan, ct)) return;
        try
        {
            var now = clock.GetUtcNow();
            known = _current.Has(kid);
            var stale = IsStale(now);
            if (known && !stale) return;
            var unknownKid = !known && !stale;
            if (now - (unknownKid ? _lastUnknownKidFetch : _lastFetch) < Pause) return;
            if (unknownKid) _lastUnknownKidFetch = now;
            _lastFetch = now;
            await FetchAsync(now, ct);
        }
        finally { _gate.Release(); }
    }

    private bool IsStale(DateTimeOffset now) => now - _current.FetchedAt >= MaxAge;

    private async Task FetchAsync(DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            var set = new JsonWebKeySet(await http.GetStringAsync(jwks, ct));
            // Only what Keygate publishes: P-256 signing keys, named.
            var keys = set.Keys.Where(k => k.Kty == "EC" && k.Crv == "P-256" && !string.IsNullOrEmpty(k.KeyId)
                && k.Use is null or "sig" && k.Alg is null or SecurityAlgorithms.EcdsaSha256).ToList();
            _current = new KeySet(keys, now);
            log.LogInformation("Fetched {Count} signing keys from {Jwks}.", keys.Count, jwks);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ArgumentException or InvalidOperationException)
        {
            // Stale keys are better than none: tokens signed with them still pass until Keygate answers again.
            log.LogWarning("Could not fetch {Jwks}: {Error}", jwks, e.Message);
        }
    }
}

/// <summary>The claims of contract A7.</summary>
public static class Claims
{
    public const string Subject = "sub";
    public const string OrgId = "org_id";
    public const string LoginName = "login_name";
    public const string Role = "role";
    public const string Permissions = "permissions";
    public const string TokenId = "jti";
}

/// <summary>Adds the scheme to the OpenAPI document, so clients generated from it send the token.</summary>
internal sealed class BearerSecurityScheme : Microsoft.AspNetCore.OpenApi.IOpenApiDocumentTransformer
{
    public Task TransformAsync(Microsoft.OpenApi.OpenApiDocument document, Microsoft.AspNetCore.OpenApi.OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Components ??= new();
        document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["KeygateIdentityToken"] = new Microsoft.OpenApi.OpenApiSecurityScheme
        {
            Type = Microsoft.OpenApi.SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "Keygate's identity token (ES256), added by the gateway.",
        };
        document.Security ??= [];
        document.Security.Add(new() { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("KeygateIdentityToken", document)] = [] });
        return Task.CompletedTask;
    }
}
