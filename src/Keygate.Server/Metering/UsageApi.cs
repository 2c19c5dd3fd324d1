using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate;

/// <summary>Usage against the threshold and the rate limits: for the org on a session, and for the provider side.</summary>
public static class UsageApi
{
    public static void MapLegacyUsage(this RouteGroupBuilder legacy) =>
        legacy.MapGet("/api/v1/usage", async (LegacyCaller caller, IUsageCounter usage, TimeProvider clock) =>
            TypedResults.Ok(await usage.ReadAsync(caller.Org.OrgId, caller.Org.Limits, clock.Now()))).AddEndpointFilter<LegacySessionFilter>();

    public static void MapProviderUsage(this RouteGroupBuilder api) =>
        api.MapGet("/organizations/{orgId}/usage", ProviderUsage);

    private static async Task<Results<Ok<UsageView>, ProblemHttpResult>> ProviderUsage(
        string orgId, ProviderCaller caller, OrgStateCache orgs, IUsageCounter usage, TimeProvider clock, CancellationToken ct) =>
        await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is { } org
            ? TypedResults.Ok(await usage.ReadAsync(org.OrgId, org.Limits, clock.Now()))
            : ProviderApi.NotFound;
}
