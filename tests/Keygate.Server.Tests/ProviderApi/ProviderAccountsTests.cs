using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B accounts: org admins and provider staff (errors as contract C).</summary>
public sealed class ProviderAccountsTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task CreatingSuperAdminAndReadOnlyAdminsReturns201AndTheyCanLogIn()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        var key = await app.KeyValueAsync(org);
        using var op = app.Provider();
        var super = Unique("super");
        var reader = Unique("reader");
        var r1 = await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = super, password = "super password 1", role = "SUPER_ADMIN" }));
        Assert.DoesNotContain("super password 1", await r1.Content.ReadAsStringAsync());
        await r1.AssertOk(HttpStatusCode.Created);
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = reader, password = "reader password 1", role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);

        var superLogin = await app.LoginAsync(super, "super password 1", key);
        await superLogin.AssertOk();
        var readerLogin = await app.LoginAsync(reader, "reader password 1", key);
        await readerLogin.AssertOk();

        using var superSession = app.SessionClient(SessionIdOf(superLogin)!);
        using var readerSession = app.SessionClient(SessionIdOf(readerLogin)!);
        var keys = await (await readerSession.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(org.KeyId, keys[0].GetProperty("id").GetInt64());
        await (await readerSession.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await superSession.GetAsync("/api/v1/apiKeys")).AssertOk();
    }

    [Fact]
    public async Task CreatingAnAdminWithAnUnknownRoleIs400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var username = Unique("god");
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "GOD" })), "role");
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password })));
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = 0 })));
        // Nothing was created: the username is still free.
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "READ_ONLY" })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
    }

    [Fact]
    public async Task CreatingAnAdminIsRecordedInTheOrgsAuditLog()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);
        var username = Unique("audited");
        var since = (await AllAuditAsync(org.Id)).Length;
        await (await c.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = "audited password", role = "SUPER_ADMIN" })))
            .AssertOk(HttpStatusCode.Created);
        var events = await AllAuditAsync(org.Id);
        var e = Assert.Single(events.Skip(since), x => x.GetProperty("action").GetString() == "admin.create");
        Assert.Equal("SUCCESS", e.GetProperty("outcome").GetString());
        Assert.Contains(username, e.GetProperty("detail").GetString());
        Assert.Contains(sp.Name, e.GetProperty("actor").GetString());
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), e.GetProperty("time").GetInt64());
        Assert.DoesNotContain(events, x => x.GetRawText().Contains("audited password"));

        // The service provider reads the same log.
        var own = await (await c.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        Assert.Contains(own.GetProperty("items").EnumerateArray(), x => x.GetProperty("action").GetString() == "admin.create" && x.GetProperty("detail").GetString()!.Contains(username));
    }

    // ---------- staff ----------

    [Fact]
    public async Task OperatorCreatesStaffWithAndWithoutAServiceProvider()
    {
        var sp = await CreateServiceProviderAsync();
        using var op = app.Provider();
        var own = Unique("staff");
        var r1 = await (await op.PostAsync("/provider/v1/staff", Json(new { username = own, password = Password }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(own, r1.GetProperty("username").GetString());
        Assert.Equal(JsonValueKind.Null, r1.GetProperty("serviceProviderId").ValueKind);
        Assert.DoesNotContain(Password, r1.GetRawText());

        var theirs = Unique("staff");
        var r2 = await (await op.PostAsync("/provider/v1/staff", Json(new { username = theirs, password = Password, serviceProviderId = sp.Id }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, r2.GetProperty("serviceProviderId").GetInt64());
        Assert.NotEqual(r1.GetProperty("id").GetInt64(), r2.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task ServiceProviderCreatesStaffForItselfAndNamingAnotherProviderIs404()
    {
        var sp = await CreateServiceProviderAsync();
        var other = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var implied = await (await c.PostAsync("/provider/v1/staff", Json(new { username = Unique("staff"), password = Password }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, implied.GetProperty("serviceProviderId").GetInt64());
        var named = await (await c.PostAsync("/provider/v1/staff", Json(new { username = Unique("staff"), password = Password, serviceProviderId = sp.Id }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, named.GetProperty("serviceProviderId").GetInt64());

        var username = Unique("staff");
        await AssertProblem(await c.PostAsync("/provider/v1/staff", Json(new { username, password = Password, serviceProviderId = other.Id })),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // Nothing was created under that name.
        using var op = app.Provider();
        await (await op.PostAsync("/provider/v1/staff", Json(new { username, password = Password }))).AssertOk(HttpStatusCode.Created);
    }

    [Fact]
    public async Task StaffUsernameTakenByAnOrgAdminIs409AndViceVersa()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        using var op = app.Provider();
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = org.Username, password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = org.Username.ToUpperInvariant(), password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");

        var staff = Unique("staff");
        await (await op.PostAsync("/provider/v1/staff", Json(new { username = staff, password = Password }))).AssertOk(HttpStatusCode.Created);
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = staff, password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");
        var before = (await ListOrgsAsync()).GetArrayLength();
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", Json(new { name = "Clash", admin = new { username = staff.ToUpperInvariant(), password = Password } })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = staff, password = Password, role = "READ_ONLY" })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
        Assert.Equal(before, (await ListOrgsAsync()).GetArrayLength());
    }
}
