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

    public static void UseProviderAuthentication(this WebApplication app) => app.Use(async (http, next) =>
    {
        if (http.Request.Path.StartsWithSegments(Prefix) && !await AuthenticateAsync(http))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await ErrorResponses.Problem(KeygateError.Unauthorized).ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    /// <summary>Fills the request's <see cref="ProviderCaller"/> from its token; false when there is no valid one.</summary>
    private static async Task<bool> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!ProviderTokens.IsWellFormed(token)) return false;
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        var hash = ProviderTokens.Hash(token);
        var row = await db.ProviderTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash, http.RequestAborted);
        if (row is null) return false;
        var caller = http.RequestServices.GetRequiredService<ProviderCaller>();
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
