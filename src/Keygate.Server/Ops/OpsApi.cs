using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.Ops;

public sealed record Health(string Status);

/// <summary>Contract D: liveness and readiness.</summary>
public static class OpsApi
{
    public static void MapOps(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new Health("ok"))).ExcludeFromDescription();
        app.MapGet("/readyz", Ready).ExcludeFromDescription();
    }

    private static async Task<Results<Ok<Health>, ProblemHttpResult>> Ready(AppDbContext db, CancellationToken ct)
    {
        try
        {
            if (await db.Database.CanConnectAsync(ct)) return TypedResults.Ok(new Health("ready"));
        }
        catch (Exception e) when (Db.IsUnavailable(e)) { }
        return ErrorResponses.Problem(new KeygateError(503, "SERVICE_UNAVAILABLE", "The database is not reachable."));
    }
}
