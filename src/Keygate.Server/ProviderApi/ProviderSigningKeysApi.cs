using Keygate.Audit;
using Keygate.Identity;
using Keygate.Kernel;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.ProviderApi;

public sealed record RotatedSigningKey(string Kid);

/// <summary>
/// Rotation of the gateway's identity-token signing key (contract A7), the operator's alone: the new key signs at once
/// on this node and within half a minute on the others; the old one stays in the JWKS until its tokens have expired.
/// </summary>
public static class ProviderSigningKeysApi
{
    public static void MapProviderSigningKeys(this RouteGroupBuilder api) =>
        api.MapPost("/signingKeys/rotate", Rotate).WithName("RotateSigningKey")
            .WithSummary("Rotate the gateway's identity-token signing key (operator only; no body needed)")
            .Refuses(413, "PAYLOAD_TOO_LARGE").Refuses(415, "UNSUPPORTED_MEDIA_TYPE").Refuses(403, "ACCESS_DENIED");

    private static async Task<Results<Ok<RotatedSigningKey>, ProblemHttpResult>> Rotate(
        HttpContext http, ProviderCaller caller, SigningKeyRing ring, TimeProvider clock)
    {
        if (!caller.IsOperator) return ErrorResponses.Problem(KeygateError.AccessDenied);
        // The body is optional; when sent it must be an empty object like any other request of ours.
        if (JsonBody.HasBody(http.Request) && (await JsonBody.ReadAsync<NoFields>(http.Request)).Error is { } e)
            return ErrorResponses.Problem(e);
        var kid = await ring.RotateAsync(AuditLog.Event(caller.Actor, null, "signing_key.rotate", null, AuditLog.Success, clock.Now()));
        return TypedResults.Ok(new RotatedSigningKey(kid));
    }
}
