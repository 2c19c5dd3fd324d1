using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.ProviderApi;

/// <summary>The body of a request that takes none: only <c>{}</c>.</summary>
public sealed record NoFields;

/// <summary>Disable and enable an org's key from the provider side; repeating either is a no-op 200.</summary>
public static class ProviderKeysApi
{
    public static void MapProviderKeys(this RouteGroupBuilder api)
    {
        api.MapPost("/organizations/{orgId}/apiKeys/{keyId}/disable", Disable);
        api.MapPost("/organizations/{orgId}/apiKeys/{keyId}/enable", Enable);
    }

    private static async Task<Results<Ok<ProviderKeyView>, ProblemHttpResult>> Disable(
        string orgId, string keyId, HttpContext http, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org || !long.TryParse(keyId, out var id))
            return ProviderApi.NotFound;
        var body = await JsonBody.ReadAsync<DisableRequest>(http.Request);
        if (body.Error is { } e) return ErrorResponses.Problem(e);
        if (body.Value!.Validate() is { } invalid) return ErrorResponses.Problem(invalid);
        return Render(await lifecycle.DisableAsync(caller.Actor, org.OrgId, id, body.Value.Reason, body.Value.Note), org, clock);
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
