using Keygate.Accounts;
using Keygate.Kernel;
using Keygate.Secrets;
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
        HttpContext http, LegacyCaller caller, AdminDirectory directory, LoginThrottle throttle)
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
        // An unacceptable new password is refused before the old one is checked: no hashing, and no failure counted.
        if (fresh.Value is null || !AdminDirectory.IsAcceptablePassword(caller.Session.Username, fresh.Value))
            return ErrorResponses.Legacy(KeygateError.InvalidPassword);

        // A wrong old password counts as a failed login of this admin (contract A8), so guessing through a stolen
        // session is throttled like guessing at the login.
        await using var attempt = await throttle.BeginAsync(caller.Session.Username, ClientAddress.Of(http));
        if (attempt.Busy) return ErrorResponses.Legacy(Passwords.Busy, http);
        if (attempt.RetryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = wait.ToString();
            return ErrorResponses.Legacy(429, "TOO_MANY_FAILED_LOGINS", "Too many failed logins; try again later.");
        }
        var error = await directory.ChangeOwnPasswordAsync(caller.Actor(http), caller.Org.OrgId, user.Value, old.Value, fresh.Value,
            caller.Session.IdHash, http.RequestAborted);
        if (error == KeygateError.InvalidUsernameOrPassword) attempt.Fail();
        return error is not null ? ErrorResponses.Legacy(error, http) : TypedResults.NoContent();
    }
}
