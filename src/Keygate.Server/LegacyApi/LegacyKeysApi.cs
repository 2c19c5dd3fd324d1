using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;

namespace Keygate.LegacyApi;

/// <summary>The key object of contract A3.</summary>
public sealed record LegacyKey(long Id, string KeyValue, string KeyType, string[] Permissions, bool Enabled, string Status,
    string? DisabledReason, long LastModifiedTime, ModifiedBy LastModifiedBy, string PartnerUrl)
{
    private static readonly string[] All = ["ALL"];

    public static LegacyKey From(OrgSnapshot org, KeySnapshot k, long nowMs)
    {
        var status = org.StatusOf(k, nowMs);
        return new(k.Id, k.Value, k.Type.ToString(), All, status == KeyStatus.ENABLED, status.ToString(),
            k.DisabledReason?.ToString(), k.LastModifiedAtMs / 1000, new ModifiedBy(k.LastModifiedById, k.LastModifiedByName), "");
    }
}

public sealed record ActivationStatus(string OrgEditStatus, string OrgLastActivateStatus)
{
    public static readonly ActivationStatus Cleared = new("EDITS_CLEARED", "CAC_ACTV_SUCCESS");
}

/// <summary>The session-authenticated key endpoints of contract A4. The rules live in <see cref="KeyLifecycle"/>.</summary>
public static class LegacyKeysApi
{
    public static void MapLegacyKeys(this RouteGroupBuilder legacy)
    {
        var api = legacy.MapGroup("/api/v1").AddEndpointFilterFactory(LegacySessionFilter.Factory).OnLegacySession();
        api.MapGet("/apiKeys", List).WithName("ListKeys").WithSummary("List the organization's keys with their values")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT").RefusesLegacy(403, "ACCESS_DENIED");
        api.MapPost("/apiKeys", Add).WithName("AddKey").WithSummary("Add a key of a type the organization does not have")
            .DocumentsBody<LegacyAddKeyRequest, RouteHandlerBuilder>("application/json", optional: true).RefusesLegacy(400, "INVALID_INPUT_ARGUMENT")
            .RefusesLegacy(409, "KEY_ALREADY_EXISTS", "SUBSCRIPTION_EXPIRED", "API_KEY_DISABLED").LegacyBodyDocs();
        api.MapPut("/apiKeys/{id}", Edit).WithName("EditKey").WithSummary("Set the Cloud Service key's value")
            .DocumentsBody<LegacyEditKeyRequest, RouteHandlerBuilder>("application/json").RefusesLegacy(400, "INVALID_INPUT_ARGUMENT", "INVALID_KEY_VALUE")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "KEY_NOT_EDITABLE", "KEY_VALUE_UNCHANGED", "SUBSCRIPTION_EXPIRED", "API_KEY_DISABLED")
            .LegacyBodyDocs();
        api.MapPost("/apiKeys/{id}/regenerate", Regenerate).AddEndpointFilter<NoFieldsBodyFilter>().WithName("RegenerateKey").WithSummary("Give a key a new random value (no body needed)")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "SUBSCRIPTION_EXPIRED", "API_KEY_DISABLED").LegacyBodyDocs();
        api.MapDelete("/apiKeys/{id}", Delete).AddEndpointFilter<NoFieldsBodyFilter>().WithName("DeleteKey").WithSummary("Delete a key")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "SUBSCRIPTION_EXPIRED", "API_KEY_DISABLED");
        // Keygate applies changes at once; the public scripts still call activate after a change.
        api.MapGet("/ecAdminActivateStatus", () => TypedResults.Ok(ActivationStatus.Cleared))
            .WithName("GetActivationStatus").WithSummary("Activation status (always cleared: changes apply at once)");
        api.MapPut("/ecAdminActivateStatus/activate", () => TypedResults.Ok(ActivationStatus.Cleared)).AddEndpointFilter<NoFieldsBodyFilter>()
            .WithName("Activate").WithSummary("Activate changes (a no-op kept for the public scripts; no body needed)");
        api.MapPut("/ecAdminActivateStatus/forcedActivate", () => TypedResults.Ok(ActivationStatus.Cleared)).AddEndpointFilter<NoFieldsBodyFilter>()
            .WithName("ForcedActivate").WithSummary("Force activation (a no-op kept for the public scripts; no body needed)");
    }

    private static Results<Ok<LegacyKey[]>, JsonHttpResult<LegacyError>> List(string? keyType, LegacyCaller caller, TimeProvider clock)
    {
        // Reading keys needs APIKEY_MANAGEMENT at least READ_ONLY (contract A8), checked before the query like A4's order.
        if (!caller.Admin.Rights.CanReadKeys) return ErrorResponses.Legacy(KeygateError.AccessDenied);
        var org = caller.Org;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // No LINQ and no list: every legacy client calls this, and the answer is one array of at most two keys.
        KeySnapshot? first, second = null;
        if (string.IsNullOrEmpty(keyType) || Is(keyType, "CLOUD_SERVICE")) first = org.Cloud;
        else if (Is(keyType, "SANDBOX_SUBMISSION")) first = org.Sandbox;
        else if (Is(keyType, "ALL")) (first, second) = (org.Cloud, org.Sandbox);
        else return ErrorResponses.Legacy(KeygateError.Invalid("keyType must be CLOUD_SERVICE, SANDBOX_SUBMISSION or ALL."));
        var keys = new LegacyKey[(first is null ? 0 : 1) + (second is null ? 0 : 1)];
        var i = 0;
        if (first is not null) keys[i++] = LegacyKey.From(org, first, now);
        if (second is not null) keys[i] = LegacyKey.From(org, second, now);
        return TypedResults.Ok(keys);
    }

    // As ToUpperInvariant() == value, without the copy (OrdinalIgnoreCase folds case the same, invariantly).
    private static bool Is(string keyType, string value) => keyType.Equals(value, StringComparison.OrdinalIgnoreCase);

    private static async Task<Results<Created<LegacyKey>, JsonHttpResult<LegacyError>>> Add(
        HttpContext http, LegacyCaller caller, KeyLifecycle lifecycle, TimeProvider clock)
    {
        var doc = await JsonBody.ReadObjectAsync(http.Request);
        if (doc.Error is { } e) return ErrorResponses.Legacy(e);
        using var json = doc.Value;
        var type = KeyType.CLOUD_SERVICE;
        if (json is not null)
        {
            if (json.RootElement.TryGetProperty("keyType", out var t) && t.ValueKind != JsonValueKind.Null)
            {
                KeyType? parsed = t.ValueKind != JsonValueKind.String ? null : t.GetString() switch
                {
                    "CLOUD_SERVICE" => KeyType.CLOUD_SERVICE,
                    "SANDBOX_SUBMISSION" => KeyType.SANDBOX_SUBMISSION,
                    _ => null,
                };
                if (parsed is null) return ErrorResponses.Legacy(KeygateError.Invalid("keyType must be CLOUD_SERVICE or SANDBOX_SUBMISSION."));
                type = parsed.Value;
            }
        }
        var result = await lifecycle.AddAsync(caller.Actor(http), caller.Org.OrgId, type);
        return result.Error is { } err ? ErrorResponses.Legacy(err) : TypedResults.Created($"/api/v1/apiKeys/{result.Value!.Id}", Render(result.Value, caller, clock));
    }

    private static async Task<Results<Ok<LegacyKey>, JsonHttpResult<LegacyError>>> Edit(
        string id, HttpContext http, LegacyCaller caller, KeyLifecycle lifecycle, TimeProvider clock)
    {
        var doc = await JsonBody.ReadObjectAsync(http.Request);
        if (doc.Error is { } e) return ErrorResponses.Legacy(e);
        using var json = doc.Value;
        // A missing or non-string value is refused by the lifecycle as INVALID_KEY_VALUE, in the contract's order.
        string? value = json is not null && json.RootElement.TryGetProperty("keyValue", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (!long.TryParse(id, out var keyId)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await lifecycle.EditAsync(caller.Actor(http), caller.Org.OrgId, keyId, value);
        return result.Error is { } err ? ErrorResponses.Legacy(err) : TypedResults.Ok(Render(result.Value!, caller, clock));
    }

    private static async Task<Results<Ok<LegacyKey>, JsonHttpResult<LegacyError>>> Regenerate(
        string id, HttpContext http, LegacyCaller caller, KeyLifecycle lifecycle, TimeProvider clock)
    {
        if (!long.TryParse(id, out var keyId)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await lifecycle.RegenerateAsync(caller.Actor(http), caller.Org.OrgId, keyId);
        return result.Error is { } err ? ErrorResponses.Legacy(err) : TypedResults.Ok(Render(result.Value!, caller, clock));
    }

    private static async Task<Results<NoContent, JsonHttpResult<LegacyError>>> Delete(
        string id, HttpContext http, LegacyCaller caller, KeyLifecycle lifecycle)
    {
        if (!long.TryParse(id, out var keyId)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await lifecycle.DeleteAsync(caller.Actor(http), caller.Org.OrgId, keyId);
        return result.Error is { } err ? ErrorResponses.Legacy(err) : TypedResults.NoContent();
    }

    /// <summary>The key as it stands after the change, with its status derived now.</summary>
    private static LegacyKey Render(KeySnapshot key, LegacyCaller caller, TimeProvider clock)
    {
        var org = caller.Org;
        return LegacyKey.From(org, key, clock.GetUtcNow().ToUnixTimeMilliseconds());
    }
}
