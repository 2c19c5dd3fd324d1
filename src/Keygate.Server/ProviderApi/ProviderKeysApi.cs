using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.ProviderApi;

/// <summary>The body of a request that takes none: only <c>{}</c>.</summary>
public sealed record NoFields;

/// <summary>Disable and enable an org's key from the provider side; repeating either is a no-op 200.</summary>
public static class ProviderKeysApi
{
    public static void MapProviderKeys(this RouteGroupBuilder api)
    {
        api.MapPost("/organizations/{orgId}/apiKeys/{keyId}/disable", Disable).WithName("DisableKey")
            .WithSummary("Disable an organization's key, with a reason").RefusesBadBody()
            .Refuses(403, "ACCESS_DENIED").Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapPost("/organizations/{orgId}/apiKeys/{keyId}/enable", Enable).WithName("EnableKey")
            .WithSummary("Enable an organization's key (no body needed)").Refuses(413, "PAYLOAD_TOO_LARGE").Refuses(415, "UNSUPPORTED_MEDIA_TYPE")
            .Refuses(403, "ACCESS_DENIED").Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
    }

    private static async Task<Results<Ok<ProviderKeyView>, ProblemHttpResult>> Disable(
        string orgId, string keyId, [FromBody] DisableRequest req, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org || !long.TryParse(keyId, out var id))
            return ProviderApi.NotFound;
        return Render(await lifecycle.DisableAsync(caller.Actor, org.OrgId, id, req.Reason, req.Note), org, clock);
    }

    private static async Task<Results<Ok<ProviderKeyView>, ProblemHttpResult>> Enable(
        string orgId, string keyId, HttpContext http, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org || !long.TryParse(keyId, out var id))
            return ProviderApi.NotFound;
        // The body is optional; when sent it must be an empty object like any other request of ours.
        if (JsonBody.HasBody(http.Request) && (await JsonBody.ReadAsync<NoFields>(http.Request)).Error is { } e)
            return ErrorResponses.Problem(e);
        return Render(await lifecycle.EnableAsync(caller.Actor, org.OrgId, id), org, clock);
    }

    private static Results<Ok<ProviderKeyView>, ProblemHttpResult> Render(Result<KeySnapshot> result, OrgSnapshot org, TimeProvider clock) =>
        result.Error is { } e ? ErrorResponses.Problem(e) : TypedResults.Ok(ProviderKeyView.From(org, result.Value!, clock.Now()));
}
