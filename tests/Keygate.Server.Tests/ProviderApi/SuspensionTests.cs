using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B v3 suspension and resume, org admins and their password resets, and passwordExpiryDays.</summary>
public sealed class SuspensionTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    private async Task<JsonElement> SuspendAsync(HttpClient c, long orgId, string note = "unpaid invoice") =>
        await (await c.PostAsync($"/provider/v1/organizations/{orgId}/suspend", Json(new { note }))).AssertOk();

    private async Task<long> CallsAsync(long orgId) =>
        (await (await app.Provider().GetAsync($"/provider/v1/organizations/{orgId}/usage")).AssertOk()).GetProperty("calls").GetInt64();

    [Fact]
    public async Task ASuspendedOrgIsRefusedEverywhereCountsNothingAndWorksAgainAfterResume()
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        var sandbox = await app.KeyValueAsync(org, "SANDBOX_SUBMISSION");
        var cloud = await app.KeyValueAsync(org);
        using var op = app.Provider();

        var suspended = await SuspendAsync(op, org.Id);
        Assert.True(suspended.GetProperty("suspended").GetBoolean());
        Assert.True((await GetOrgAsync(org.Id)).GetProperty("suspended").GetBoolean());
        var calls = await CallsAsync(org.Id);

        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        await (await app.LoginAsync(org.Username, org.Password, cloud)).AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        using var anonymous = app.Client();
        await (await anonymous.PostAsync($"/zscsb/submit?api_token={sandbox}", new ByteArrayContent([1, 2, 3])))
            .AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        // A wrong password still says only that.
        await (await app.LoginAsync(org.Username, "wrong password here", cloud)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Equal(calls, await CallsAsync(org.Id));
        // The key itself is unchanged: the provider view still shows it enabled, and its value did not move.
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id), org.KeyId).GetProperty("status").GetString());

        var resumed = await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/resume", null)).AssertOk();
        Assert.False(resumed.GetProperty("suspended").GetBoolean());
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(calls + 1, await CallsAsync(org.Id));
        await (await app.LoginAsync(org.Username, org.Password, cloud)).AssertOk();
        Assert.Equal(cloud, await app.KeyValueAsync(org));

        var actions = (await AllAuditAsync(org.Id)).Select(e => e.GetProperty("action").GetString()).ToArray();
        Assert.Contains("org.suspend", actions);
        Assert.Contains("org.resume", actions);
        await using var db = app.OpenDatabase();
        var types = db.WebhookEvents.Where(e => e.OrganizationId == org.Id).Select(e => e.Type).ToList();
        Assert.Contains("org.suspended", types);
        Assert.Contains("org.resumed", types);
    }

    [Fact]
    public async Task SuspendingTwiceIsANoOpAndOnlyTheOrgsProviderMaySuspendIt()
    {
        var sp = await CreateServiceProviderAsync();
        var other = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);
        using var stranger = app.Provider(other.Token);
        await AssertProblem(await stranger.PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Json(new { note = "x" })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await stranger.PostAsync($"/provider/v1/organizations/{org.Id}/resume", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertInvalid(await c.PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Json(new { note = "x", until = 5 })));
        await AssertProblem(await c.PostAsync($"/provider/v1/organizations/{org.Id}/resume", RawJson("{\"x\":1}")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.False((await GetOrgAsync(org.Id)).GetProperty("suspended").GetBoolean());
        await SuspendAsync(c, org.Id);
        await SuspendAsync(c, org.Id);
        Assert.Single(await AllAuditAsync(org.Id), e => e.GetProperty("action").GetString() == "org.suspend");
        await AssertProblem(await c.PostAsync("/provider/v1/organizations/abc/suspend", Json(new { note = "x" })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task ASuspendedOrgsPortalIsReadOnlyWithABanner()
    {
        var org = await app.CreateOrgAsync();
        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        await SuspendAsync(app.Provider(), org.Id);
        var page = await portal.GetStringAsync(PortalSession.KeyPage);
        Assert.Contains("suspended-banner", page);
        Assert.DoesNotContain("confirm=regenerate", page);
        var before = await app.KeyValueAsync(org);
        var r = await portal.PostFormAsync(PortalSession.KeyPage, PortalSession.KeyPage + "?handler=Regenerate", new() { ["keyId"] = org.KeyId.ToString() });
        Assert.NotEqual(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Contains("suspended", await r.Content.ReadAsStringAsync());
        Assert.Equal(before, await app.KeyValueAsync(org));
        var audit = await AllAuditAsync(org.Id);
        Assert.DoesNotContain(audit, e => e.GetProperty("action").GetString() == "key.regenerate" && e.GetProperty("outcome").GetString() == "SUCCESS");
    }

    [Fact]
    public async Task AdminsAreListedAndAResetGivesATemporaryPasswordAndEndsTheirSessions()
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        var key = await app.KeyValueAsync(org);
        using var op = app.Provider();
        var admins = await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/admins")).AssertOk();
        var admin = Assert.Single(admins.EnumerateArray());
        AssertProperties(admin, "id", "username", "role", "disabled", "passwordMustChange", "createdAt");
        Assert.Equal(org.Username, admin.GetProperty("username").GetString());
        Assert.Equal("SUPER_ADMIN", admin.GetProperty("role").GetString());
        Assert.DoesNotContain("passwordHash", admins.GetRawText(), StringComparison.OrdinalIgnoreCase);

        var id = admin.GetProperty("id").GetInt64();
        var reset = await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins/{id}/resetPassword", null)).AssertOk();
        AssertProperties(reset, "temporaryPassword");
        var temporary = reset.GetProperty("temporaryPassword").GetString()!;
        Assert.True(temporary.Length >= 12);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.True((await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/admins")).AssertOk())[0].GetProperty("passwordMustChange").GetBoolean());
        // The old password is gone; the audit shows the reset but never the password.
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        // The temporary password works where nothing else checks for a change of password (the legacy login's 403 PASSWORD_EXPIRED is A8's).
        using var portal = await app.PortalLoginAsync(org.Username, temporary);
        var events = await AllAuditAsync(org.Id);
        Assert.Contains(events, e => e.GetProperty("action").GetString() == "admin.reset_password");
        Assert.DoesNotContain(events, e => e.GetRawText().Contains(temporary));

        var other = await CreateServiceProviderAsync();
        using var stranger = app.Provider(other.Token);
        await AssertProblem(await stranger.GetAsync($"/provider/v1/organizations/{org.Id}/admins"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await stranger.PostAsync($"/provider/v1/organizations/{org.Id}/admins/{id}/resetPassword", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        var otherOrg = await app.CreateOrgAsync();
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{otherOrg.Id}/admins/{id}/resetPassword", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins/x/resetPassword", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task PasswordExpiryDaysIsSetThroughPatch()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        Assert.Equal(0, (await GetOrgAsync(org.Id)).GetProperty("passwordExpiryDays").GetInt32());
        var patched = await (await op.SendAsync(Patch($"/provider/v1/organizations/{org.Id}", new { passwordExpiryDays = 90 }))).AssertOk();
        Assert.Equal(90, patched.GetProperty("passwordExpiryDays").GetInt32());
        await AssertInvalid(await op.SendAsync(Patch($"/provider/v1/organizations/{org.Id}", new { passwordExpiryDays = -1 })), "passwordExpiryDays");
        Assert.Equal(90, (await GetOrgAsync(org.Id)).GetProperty("passwordExpiryDays").GetInt32());
    }
}
