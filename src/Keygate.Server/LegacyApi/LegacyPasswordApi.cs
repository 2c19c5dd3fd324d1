using Keygate.Accounts;
using Keygate.Kernel;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.LegacyApi;

/// <summary>POST /api/v1/passwordChange (contract A8): the session's admin changes their own password.</summary>
public static class LegacyPasswordApi
{
    public static void MapLegacyPassword(this RouteGroupBuilder legacy) =>
        legacy.MapPost("/api/v1/passwordChange", Change).AddEndpointFilterFactory(LegacySessionFilter.Factory).OnLegacySession()
            .WithName("ChangePassword").WithSummary("Change your own password; your other sessions end")
            .DocumentsBody<LegacyPasswordChangeRequest, RouteHandlerBuilder>("application/json")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT", "INVALID_USERNAME_OR_PASSWORD", "INVALID_PASSWORD")
            .RefusesLegacy(429, "TOO_MANY_FAILED_LOGINS").RefusesLegacy(503, "SERVICE_BUSY").LegacyBodyDocs();

    private static async Task<Results<NoContent, JsonHttpResult<LegacyError>>> Change(
        HttpContext http, LegacyCaller caller, OwnPasswordChange change)
    {
        var doc = await JsonBody.ReadObjectAsync(http.Request);
        if (doc.Error is { } bodyError) return ErrorResponses.Legacy(bodyError);
        using var json = doc.Value;
        var root = json?.RootElement;
        var (user, old, fresh) = root is { } r
            ? (LegacyFields.String(r, "userName"), LegacyFields.String(r, "oldPassword"), LegacyFields.String(r, "newPassword"))
            : default;
        if (user.Value is null || old.Value is null || user.Value.Length > 256 || old.Value.Length > 1024)
            return ErrorResponses.Legacy(KeygateError.Invalid("userName, oldPassword and newPassword (strings) are required."));
        var error = await change.ChangeAsync(caller.Actor(http), caller.Org.OrgId, user.Value, old.Value, fresh.Value, caller.Session.IdHash,
            http.RequestAborted);
        if (error?.Status == 429)
        {
            // A2's login 429: Retry-After as a header, the body {code,message} only.
            http.Response.Headers.RetryAfter = error.RetryAfterSeconds.ToString();
            return ErrorResponses.Legacy(error);
        }
        return error is not null ? ErrorResponses.Legacy(error, http) : TypedResults.NoContent();
    }
}
