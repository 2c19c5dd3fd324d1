using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate.ProviderApi;

/// <summary>The caller of a provider API request, filled by <see cref="ProviderAuthFilter"/>.</summary>
public sealed class ProviderCaller
{
    public Actor Actor { get; set; } = null!;
    public bool IsOperator => Actor.Kind == ActorKind.Operator;
}

/// <summary>Bearer-token authentication for /provider/v1: 401 UNAUTHORIZED without a valid token.</summary>
public sealed class ProviderAuthFilter(AppDbContext db, ProviderCaller caller, IOptions<KeygateOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var http = ctx.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!ProviderTokens.IsWellFormed(token)) return Unauthorized(http);
        var hash = ProviderTokens.Hash(token);
        var row = await db.ProviderTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash);
        if (row is null) return Unauthorized(http);
        var address = ClientAddress.Of(http);
        if (row.ServiceProviderId is { } spId)
        {
            var sp = await db.ServiceProviders.AsNoTracking().FirstAsync(s => s.Id == spId);
            caller.Actor = new Actor(ActorKind.ServiceProvider, 0, sp.Name, address) { ServiceProviderId = spId };
        }
        else
        {
            caller.Actor = new Actor(ActorKind.Operator, 0, options.Value.OperatorName, address);
        }
        return await next(ctx);
    }

    private static object Unauthorized(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorResponses.Problem(KeygateError.Unauthorized);
    }
}
