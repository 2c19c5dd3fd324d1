using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.ProviderApi;

public static class ProviderAuditApi
{
    public static void MapProviderAudit(this RouteGroupBuilder api) =>
        api.MapGet("/organizations/{orgId}/audit", List).WithName("ListAudit").WithSummary("Read an organization's audit log, oldest first, a page at a time")
            .Refuses(400, "INVALID_INPUT_ARGUMENT").Refuses(404, "RESOURCE_NOT_FOUND");

    /// <summary>Oldest first, paged by an opaque cursor (the last id seen).</summary>
    private static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> List(
        string orgId, string? after, string? limit, HttpContext http, ProviderCaller caller, OrgStateCache orgs, AppDbContext db)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org) return ProviderApi.NotFound;
        var (page, error) = await AuditPages.ReadAsync(db, org.OrgId, after, limit);
        return error is not null ? ErrorResponses.Problem(error) : TypedResults.Ok(page!);
    }

}
