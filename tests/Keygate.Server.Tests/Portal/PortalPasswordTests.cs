using System.Net;
using static Keygate.Tests.AdminPortalKit;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// The portal's password page (contract A8): changing one's own password keeps this login and ends the others, the policy
/// and a wrong current password are shown, and an expired or provider-reset password is changed before anything else.
/// </summary>
public sealed class PortalPasswordTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private static Dictionary<string, string> Change(string current, string fresh, string? confirm = null) =>
        new() { ["currentPassword"] = current, ["newPassword"] = fresh, ["confirmPassword"] = confirm ?? fresh };

    [Fact]
    public async Task ChangingMyPasswordKeepsThisLoginAndEndsMyOtherSessions()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        using var otherPortal = await app.PortalLoginAsync(org.Username, org.Password);
        using var legacy = await app.SessionAsync(org);
        var key = await app.KeyValueAsync(org);

        (await c.SubmitAsync(PasswordPage, "", Change(org.Password, AdminTestKit.NewPassword))).AssertRedirect($"{PasswordPage}?done=changed");
        Assert.Contains("Your password was changed", await c.GetStringAsync($"{PasswordPage}?done=changed"));
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync(PortalSession.KeyPage)).StatusCode);
        Assert.StartsWith("/login", (await otherPortal.GetAsync(PortalSession.KeyPage)).Headers.Location!.PathAndQuery);
        await (await legacy.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await app.LoginAsync(org.Username, AdminTestKit.NewPassword, key)).AssertOk();
        Assert.Contains(("password.change", "SUCCESS"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task ThePolicyAWrongCurrentPasswordAndAMismatchAreShownBesideTheirFields()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var html = await (await c.SubmitAsync(PasswordPage, "", Change(org.Password, "too short"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        Assert.Contains("id=\"new-password-error\"", html);
        await (await c.SubmitAsync(PasswordPage, "", Change(org.Password, "my " + org.Username + " pass"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        html = await (await c.SubmitAsync(PasswordPage, "", Change("not the password", AdminTestKit.NewPassword))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Contains("id=\"current-password-error\"", html);
        html = await (await c.SubmitAsync(PasswordPage, "", Change(org.Password, AdminTestKit.NewPassword, "another long passphrase"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Contains("id=\"confirm-password-error\"", html);
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertOk();
        Assert.Contains(("password.change", "INVALID_USERNAME_OR_PASSWORD"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task AWrongCurrentPasswordCountsAsAFailedLogin()
    {
        using var throttled = KeygateApp.With(new() { ["Keygate:LoginThrottle:FailuresPerUsername"] = "1" });
        var org = await throttled.CreateOrgAsync();
        var key = await throttled.KeyValueAsync(org);
        using var c = await throttled.PortalLoginAsync(org.Username, org.Password);
        await (await c.SubmitAsync(PasswordPage, "", Change("not the password", AdminTestKit.NewPassword))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        var r = await c.SubmitAsync(PasswordPage, "", Change(org.Password, AdminTestKit.NewPassword));
        await r.AssertRefusedAsync(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        Assert.NotNull(r.Headers.RetryAfter);
        await (await throttled.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
    }

    [Fact]
    public async Task AProviderResetSendsEveryPortalPageAndFormToThePasswordPageUntilItIsChanged()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        using var legacy = await app.SessionAsync(org);
        var temporary = await app.ResetPasswordAsync(org.Id, org.Username);
        using var c = await app.PortalLoginAsync(org.Username, temporary);
        var passwordPage = await c.GetStringAsync(PasswordPage);

        foreach (var path in new[] { PortalSession.KeyPage, "/admin/usage", "/admin/sessions", "/admin/audit", Admins, Roles, "/" })
            (await c.GetAsync(path)).AssertRedirect(PasswordPage);
        // A form posted meanwhile changes nothing.
        (await c.SubmitAsync(Roles, "Add", RoleForm("Sneaky"), tokenFrom: PasswordPage)).AssertRedirect(PasswordPage);
        (await c.SubmitAsync(PortalSession.KeyPage, "Regenerate", new() { ["keyId"] = $"{org.KeyId}" }, tokenFrom: PasswordPage)).AssertRedirect(PasswordPage);
        Assert.DoesNotContain(await app.AuditAsync(org.Id), a => a.Action is "role.create" or "key.regenerate");

        Assert.Contains("Your service provider reset your password", passwordPage);
        Assert.DoesNotContain("href=\"/admin/sessions\"", passwordPage);
        (await c.SubmitAsync(PasswordPage, "", Change(temporary, AdminTestKit.NewPassword))).AssertRedirect($"{PasswordPage}?done=changed");
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync(Admins)).StatusCode);
        Assert.DoesNotContain("reset your password", await c.GetStringAsync(PasswordPage));
        await (await app.LoginAsync(org.Username, AdminTestKit.NewPassword, key)).AssertOk();
        await (await legacy.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task AnExpiredPasswordIsChangedRightAfterThePortalLogin()
    {
        using var own = new KeygateApp(); // this test moves the clock by weeks
        var org = await own.CreateOrgAsync(expiresAt: own.Clock.GetUtcNow().AddYears(1).ToUnixTimeSeconds());
        var key = await own.KeyValueAsync(org);
        await (await own.Provider().PatchAsync($"/provider/v1/organizations/{org.Id}", Json(new { passwordExpiryDays = 30 }))).AssertOk();
        own.Clock.Advance(TimeSpan.FromDays(31));
        await (await own.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.Forbidden, "PASSWORD_EXPIRED");

        using var c = own.NewClient(handleCookies: true);
        var login = await c.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = org.Username, ["password"] = org.Password,
            ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(await c.GetStringAsync("/login")),
        }));
        (await c.GetAsync(login.Headers.Location!.OriginalString)).AssertRedirect(PasswordPage);
        Assert.Contains("Your password has expired", await c.GetStringAsync(PasswordPage));
        (await c.SubmitAsync(PasswordPage, "", Change(org.Password, AdminTestKit.NewPassword))).AssertRedirect($"{PasswordPage}?done=changed");
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync(PortalSession.KeyPage)).StatusCode);
        await (await own.LoginAsync(org.Username, AdminTestKit.NewPassword, key)).AssertOk();
    }
}
