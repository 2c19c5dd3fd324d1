using System.Net;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// POST /api/v1/passwordChange and password expiry (contract A8): the change ends the admin's other sessions, legacy and
/// portal, and keeps the one that asked; a wrong old password counts as a failed login; the login body tells when the
/// password expires, and an expired one is 403 PASSWORD_EXPIRED (on the fake clock).
/// </summary>
public sealed class PasswordTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task AChangedPasswordEndsTheAdminsOtherSessionsButNotTheOneThatChangedIt()
    {
        var org = await app.CreateOrgAsync();
        using var asking = await app.SessionAsync(org);
        using var other = await app.SessionAsync(org);
        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        var key = await app.KeyValueAsync(org);

        var r = await asking.PostAsync("/api/v1/passwordChange", Json(new { userName = org.Username, oldPassword = org.Password, newPassword = AdminTestKit.NewPassword }));
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);

        await (await asking.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await other.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(HttpStatusCode.Redirect, (await portal.GetAsync(PortalSession.KeyPage)).StatusCode);
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await app.LoginAsync(org.Username, AdminTestKit.NewPassword, key)).AssertOk();
        Assert.Contains(("password.change", "SUCCESS"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task ANewPasswordOutsideThePolicyIsInvalidPasswordAndChangesNothing()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        foreach (var newPassword in new[] { "too short", new string('y', 129), "my " + org.Username + " pass" })
            await (await s.PostAsync("/api/v1/passwordChange", Json(new { userName = org.Username, oldPassword = org.Password, newPassword })))
                .AssertError(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        await (await s.PostAsync("/api/v1/passwordChange", Json(new { userName = org.Username, oldPassword = org.Password })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        await (await s.PostAsync("/api/v1/passwordChange", Json(new { userName = 5, oldPassword = org.Password, newPassword = AdminTestKit.NewPassword })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertOk();
    }

    [Fact]
    public async Task AWrongOldPasswordOrAnotherUserNameIsInvalidUsernameOrPasswordAndCountsAsAFailedLogin()
    {
        using var throttled = KeygateApp.With(new() { ["Keygate:LoginThrottle:FailuresPerUsername"] = "2" });
        var org = await throttled.CreateOrgAsync();
        using var s = await throttled.SessionAsync(org);
        var key = await throttled.KeyValueAsync(org);
        await (await s.PostAsync("/api/v1/passwordChange", Json(new { userName = org.Username, oldPassword = "not the password", newPassword = AdminTestKit.NewPassword })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await s.PostAsync("/api/v1/passwordChange", Json(new { userName = "someone@else.example", oldPassword = org.Password, newPassword = AdminTestKit.NewPassword })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        // Two failures: the username is throttled, for the login and for the next change alike.
        await (await throttled.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        var r = await s.PostAsync("/api/v1/passwordChange", Json(new { userName = org.Username, oldPassword = org.Password, newPassword = AdminTestKit.NewPassword }));
        await r.AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        Assert.True(r.Headers.RetryAfter is not null);
        Assert.Contains(("password.change", "INVALID_USERNAME_OR_PASSWORD"), await throttled.AuditAsync(org.Id));
    }

    [Fact]
    public async Task TheLoginBodyCarriesThePasswordsExpiryAndAnExpiredPasswordIsPasswordExpiredUntilChanged()
    {
        using var own = new KeygateApp(); // this test moves the clock by weeks
        var org = await own.CreateOrgAsync(expiresAt: own.Clock.GetUtcNow().AddYears(1).ToUnixTimeSeconds());
        var key = await own.KeyValueAsync(org);
        var never = await (await own.LoginAsync(org.Username, org.Password, key)).AssertOk();
        Assert.Equal(-1, never.GetProperty("passwordExpiryTime").GetInt64());
        Assert.Equal(-1, never.GetProperty("passwordExpiryDays").GetInt64());

        var setAt = own.NowMs; // the password was set when the org was made, on the fake clock that has not moved
        await (await own.Provider().PatchAsync($"/provider/v1/organizations/{org.Id}", Json(new { passwordExpiryDays = 30 }))).AssertOk();
        var body = await (await own.LoginAsync(org.Username, org.Password, key)).AssertOk();
        Assert.Equal(setAt + 30 * 86_400_000L, body.GetProperty("passwordExpiryTime").GetInt64());
        Assert.Equal(30, body.GetProperty("passwordExpiryDays").GetInt64());

        own.Clock.Advance(TimeSpan.FromDays(10.5));
        var later = await (await own.LoginAsync(org.Username, org.Password, key)).AssertOk();
        Assert.Equal(19, later.GetProperty("passwordExpiryDays").GetInt64());
        using var s = own.SessionClient(SessionIdOf(await own.LoginAsync(org.Username, org.Password, key))!);
        Assert.Equal(19, (await (await s.GetAsync("/api/v1/auth")).AssertOk()).GetProperty("passwordExpiryDays").GetInt64());

        own.Clock.Advance(TimeSpan.FromDays(20));
        await (await own.LoginAsync(org.Username, org.Password, key, own.NowMs)).AssertError(HttpStatusCode.Forbidden, "PASSWORD_EXPIRED");
        // The expiry is the password's, so a wrong one is still just wrong (the check comes after the password's).
        await (await own.LoginAsync(org.Username, "not the password", key, own.NowMs)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        var listed = (await (await own.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk());
        Assert.Equal(org.Id, listed.GetProperty("id").GetInt64());

        // Turned off again, the same password logs in.
        await (await own.Provider().PatchAsync($"/provider/v1/organizations/{org.Id}", Json(new { passwordExpiryDays = 0 }))).AssertOk();
        await (await own.LoginAsync(org.Username, org.Password, key, own.NowMs)).AssertOk();
    }
}
