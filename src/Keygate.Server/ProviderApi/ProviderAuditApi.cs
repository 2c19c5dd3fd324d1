using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Keygate;

public static class ProviderAuditApi
{
    public static void MapProviderAudit(this RouteGroupBuilder api) => api.MapGet("/organizations/{orgId}/audit", List);

    /// <summary>Oldest first, paged by an opaque cursor (the last id seen).</summary>
    private static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> List(
        string orgId, string? after, string? limit, HttpContext http, ProviderCaller caller, OrgStateCache orgs, AppDbContext db)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org) return ProviderApi.NotFound;
        var (page, error) = await ReadAsync(db, org.OrgId, after, limit);
        return error is not null ? ErrorResponses.Problem(error) : TypedResults.Ok(page!);
    }

    /// <summary>Shared by the provider API and the portal's audit page.</summary>
    public static async Task<(AuditPage? Page, KeygateError? Error)> ReadAsync(AppDbContext db, long orgId, string? after, string? limit)
    {
        var n = 50;
        if (limit is not null && (!int.TryParse(limit, out n) || n is < 1 or > 100))
            return (null, KeygateError.Invalid("limit", "limit must be 1 to 100."));
        long cursor = 0;
        if (!string.IsNullOrEmpty(after) && (!long.TryParse(after, out cursor) || cursor < 0))
            return (null, KeygateError.Invalid("after", "after must be a cursor returned by a previous page."));
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.OrganizationId == orgId && e.Id > cursor)
            .OrderBy(e => e.Id).Take(n + 1).ToListAsync();
        var more = rows.Count > n;
        var items = rows.Take(n).Select(AuditItem.From).ToArray();
        return (new AuditPage(items, more ? items[^1].Id.ToString() : null), null);
    }
}
