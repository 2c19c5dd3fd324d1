using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate.ProviderApi;

/// <summary>The caller of a provider API request, filled by <see cref="ProviderAuthentication"/>.</summary>
public sealed class ProviderCaller
{
    public Actor Actor { get; set; } = null!;
    /// <summary>The id of the token the request came with.</summary>
    public long TokenId { get; set; }
    public bool IsOperator => Actor.Kind == ActorKind.Operator;
}

/// <summary>
/// Bearer-token authentication for /provider/v1: 401 UNAUTHORIZED without a valid token. It runs as middleware, before
/// the endpoint binds and validates its body, so a caller without a token learns nothing about its request (an
/// endpoint filter would run only after binding, answering 400 or 415 first).
/// </summary>
public static class ProviderAuthentication
{
    public static readonly PathString Prefix = "/provider/v1";

    // Every request passes here: any other path goes straight on, without an async state machine of its own.
    public static void UseProviderAuthentication(this WebApplication app) => app.Use((http, next) =>
        http.Request.Path.StartsWithSegments(Prefix) ? AuthenticatedAsync(http, next) : next(http));

    private static async Task AuthenticatedAsync(HttpContext http, RequestDelegate next)
    {
        if (!await AuthenticateAsync(http))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await ErrorResponses.Problem(KeygateError.Unauthorized).ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    /// <summary>Fills the request's <see cref="ProviderCaller"/> from its token; false when there is no valid one.</summary>
    private static async Task<bool> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!ProviderTokens.IsWellFormed(token)) return false;
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        var hash = ProviderTokens.Hash(token);
        // One indexed read per call, never a cache: a revoked or expired token is refused by every node at its next
        // request (the provider API is not the hot path).
        var row = await db.ProviderTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash, http.RequestAborted);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().Now();
        if (row is null || !row.IsLive(now)) return false;
        // lastUsedAt moves at most once a minute, so a busy token costs one write a minute, not one per call.
        if (row.LastUsedAtMs is not { } used || now - used >= 60_000)
            await db.ProviderTokens.Where(t => t.Id == row.Id && (t.LastUsedAtMs == null || t.LastUsedAtMs <= now - 60_000))
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedAtMs, now), http.RequestAborted);
        var caller = http.RequestServices.GetRequiredService<ProviderCaller>();
        caller.TokenId = row.Id;
        var address = ClientAddress.Of(http);
        if (row.ServiceProviderId is { } spId)
        {
            var sp = await db.ServiceProviders.AsNoTracking().FirstAsync(s => s.Id == spId, http.RequestAborted);
            caller.Actor = new Actor(ActorKind.ServiceProvider, 0, sp.Name, address) { ServiceProviderId = spId };
        }
        else
        {
            var options = http.RequestServices.GetRequiredService<IOptions<KeygateOptions>>().Value;
            caller.Actor = new Actor(ActorKind.Operator, 0, options.OperatorName, address);
        }
        return true;
    }
}
