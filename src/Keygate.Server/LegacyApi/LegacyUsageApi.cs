using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Sessions;

namespace Keygate.LegacyApi;

/// <summary>GET /api/v1/usage: the org's own usage against its threshold and rate limits, on a session.</summary>
public static class LegacyUsageApi
{
    public static void MapLegacyUsage(this RouteGroupBuilder legacy) =>
        legacy.MapGet("/api/v1/usage", async (LegacyCaller caller, IUsageCounter usage, TimeProvider clock) =>
            TypedResults.Ok(await usage.ReadAsync(caller.Org.OrgId, caller.Org.Limits, clock.Now()))).AddEndpointFilterFactory(LegacySessionFilter.Factory)
            .WithName("LegacyUsage").WithSummary("Read the organization's own usage").OnLegacySession();
}
