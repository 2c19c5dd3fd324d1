using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.ProviderApi;

/// <summary>GET /provider/v1/organizations/{orgId}/usage: an org's usage, for the provider side.</summary>
public static class ProviderUsageApi
{
    public static void MapProviderUsage(this RouteGroupBuilder api) =>
        api.MapGet("/organizations/{orgId}/usage", ProviderUsage).WithName("GetUsage")
            .WithSummary("Read an organization's usage against its threshold and rates").Refuses(404, "RESOURCE_NOT_FOUND");

    private static async Task<Results<Ok<UsageView>, ProblemHttpResult>> ProviderUsage(
        string orgId, ProviderCaller caller, OrgStateCache orgs, IUsageCounter usage, GatewayCounts gateway, TimeProvider clock, CancellationToken ct) =>
        await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is { } org
            ? TypedResults.Ok(await usage.ReadAsync(org.OrgId, org.Limits, clock.Now()) with { Gateway = gateway.Read(org.OrgId, org.Limits) })
            : ProviderApi.NotFound;
}
