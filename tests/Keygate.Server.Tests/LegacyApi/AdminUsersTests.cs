using System.Net;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// /api/v1/adminUsers (contract A8) over HTTP: the object, role as an object or a name, the refusals, the rights of each
/// role, and that a disable, a delete or a role change holds for the admin's live sessions at their next request.
/// </summary>
public sealed class AdminUsersTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task TheListShowsTheOrgsFirstAdminWithTheBuiltInSuperAdminRole()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var admin = Assert.Single((await (await s.GetAsync("/api/v1/adminUsers")).AssertOk()).EnumerateArray());
        Assert.Equal(org.Username, admin.GetProperty("loginName").GetString());
        Assert.Equal("Super Admin", admin.GetProperty("role").GetProperty("name").GetString());
        Assert.False(admin.GetProperty("disabled").GetBoolean());
        Assert.False(admin.GetProperty("isPasswordExpired").GetBoolean());
        Assert.Equal(app.NowMs / 1000, admin.GetProperty("pwdLastModifiedTime").GetInt64());
        Assert.False(admin.TryGetProperty("password", out _));
        var one = await (await s.GetAsync($"/api/v1/adminUsers/{admin.GetProperty("id").GetInt64()}")).AssertOk();
        Assert.Equal(org.Username, one.GetProperty("loginName").GetString());
    }

    [Fact]
    public async Task RoleIsAcceptedAsANameAnIdObjectOrAnIdAndNameObjectAndUnknownFieldsAreIgnored()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var readOnly = await s.RoleIdAsync("Read Only Admin");
        object[] forms = ["Read Only Admin", new { id = readOnly }, new { id = readOnly, name = "Read Only Admin" }, "read only admin"];
        foreach (var role in forms)
        {
            var r = await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = Unique("ro"), password = Password, role, isNonsense = 1, extra = new { a = 1 } }));
            var created = await r.AssertOk(HttpStatusCode.Created);
            Assert.Equal(readOnly, created.GetProperty("role").GetProperty("id").GetInt64());
            Assert.Equal("Read Only Admin", created.GetProperty("role").GetProperty("name").GetString());
        }
        await (await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = Unique("x"), password = Password, role = "No Such Role" })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await (await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = Unique("x"), password = Password, role = new { id = 999999999 } })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task AReadOnlyAdminReadsKeysAndAdminsButChangesNeither()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var (_, login) = await s.AddAdminAsync("Read Only Admin");
        using var ro = await app.SessionOfAsync(org, login);
        await (await ro.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await ro.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        Assert.Equal(2, (await (await ro.GetAsync("/api/v1/adminUsers")).AssertOk()).GetArrayLength());
        await (await ro.GetAsync("/api/v1/adminRoles")).AssertOk();
        await (await ro.PostAsync("/api/v1/adminUsers", Json(new { loginName = Unique("x"), password = Password, role = "Super Admin" })))
            .AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var self = await s.SelfIdAsync(org);
        await (await ro.DeleteAsync($"/api/v1/adminUsers/{self}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task ARoleWithoutApiKeyManagementCannotReadKeysOnTheApiOrInThePortal()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "Viewers", featurePermissions = new { EDGE_CONNECTOR_DASHBOARD = "READ_ONLY" } })))
            .AssertOk(HttpStatusCode.Created);
        var (_, login) = await s.AddAdminAsync("Viewers");
        // The key is read as the org's first admin (a Viewer cannot), and the Viewer logs in with it.
        var key = await app.KeyValueAsync(org);
        var r = await app.LoginAsync(login, Password, key);
        using var viewer = app.SessionClient(SessionIdOf(await Ok(r))!);
        await (await viewer.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await viewer.GetAsync("/api/v1/adminUsers")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var page = await app.PortalPageAsync(login, Password);
        Assert.Null(KeyValueOnPage(page));
        Assert.Contains("does not give access to the API keys", page);
    }

    private static async Task<HttpResponseMessage> Ok(HttpResponseMessage r)
    {
        await r.AssertOk();
        return r;
    }

    [Fact]
    public async Task ATakenLoginNameIsRefusedInAnyLetterCaseEvenFromAnotherOrg()
    {
        var org = await app.CreateOrgAsync();
        var other = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        await (await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = other.Username.ToUpperInvariant(), password = Password, role = "Super Admin" })))
            .AssertError(HttpStatusCode.Conflict, "USERNAME_TAKEN");
        var (id, _) = await s.AddAdminAsync("Super Admin");
        await (await s.PutAsync($"/api/v1/adminUsers/{id}", Json(new { loginName = org.Username.ToUpperInvariant() })))
            .AssertError(HttpStatusCode.Conflict, "USERNAME_TAKEN");
    }

    [Fact]
    public async Task APasswordOutsideThePolicyIsInvalidPassword()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var login = Unique("pw");
        foreach (var password in new[] { "short", new string('x', 129), "x" + login.ToUpperInvariant() + "x", "" })
            await (await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = login, password, role = "Super Admin" })))
                .AssertError(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        await (await s.PostAsync("/api/v1/adminUsers", Json(new { loginName = login, password = new string('x', 12), role = "Super Admin" })))
            .AssertOk(HttpStatusCode.Created);
    }

    [Fact]
    public async Task DeletingOrDisablingOneselfIsCannotChangeOwnAccount()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        await s.AddAdminAsync("Super Admin"); // so LAST_SUPER_ADMIN is not what answers
        var self = await s.SelfIdAsync(org);
        await (await s.DeleteAsync($"/api/v1/adminUsers/{self}")).AssertError(HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT");
        await (await s.PutAsync($"/api/v1/adminUsers/{self}", Json(new { disabled = true }))).AssertError(HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT");
        await (await s.PutAsync($"/api/v1/adminUsers/{self}", Json(new { userName = "Me", comments = "still here" }))).AssertOk();
        Assert.Contains(("admin.delete", "CANNOT_CHANGE_OWN_ACCOUNT"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task DemotingDisablingOrDeletingTheLastAdminManagerIsLastSuperAdmin()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var self = await s.SelfIdAsync(org);
        await (await s.PutAsync($"/api/v1/adminUsers/{self}", Json(new { role = "Read Only Admin" }))).AssertError(HttpStatusCode.Conflict, "LAST_SUPER_ADMIN");

        var (other, login) = await s.AddAdminAsync("Super Admin");
        await (await s.PutAsync($"/api/v1/adminUsers/{self}", Json(new { role = "Read Only Admin" }))).AssertOk();
        // Now the other one is the last who can manage admins: nobody may take that away, the first admin cannot even try.
        using var o = await app.SessionOfAsync(org, login);
        await (await o.PutAsync($"/api/v1/adminUsers/{other}", Json(new { role = "Read Only Admin" }))).AssertError(HttpStatusCode.Conflict, "LAST_SUPER_ADMIN");
        await (await s.DeleteAsync($"/api/v1/adminUsers/{other}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var (third, _) = await o.AddAdminAsync("Super Admin");
        await (await o.PutAsync($"/api/v1/adminUsers/{third}", Json(new { disabled = true }))).AssertOk();
        await (await o.PutAsync($"/api/v1/adminUsers/{other}", Json(new { role = "Read Only Admin" }))).AssertError(HttpStatusCode.Conflict, "LAST_SUPER_ADMIN");
        Assert.Contains(("admin.update", "LAST_SUPER_ADMIN"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task DisablingAnAdminEndsTheirLegacyAndPortalSessionsAtTheNextRequestAndTheirLogins()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var (id, login) = await s.AddAdminAsync("Super Admin");
        using var theirs = await app.SessionOfAsync(org, login);
        using var portal = await app.PortalLoginAsync(login, Password);
        await (await theirs.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(HttpStatusCode.OK, (await portal.GetAsync(PortalSession.KeyPage)).StatusCode);

        var disabled = await (await s.PutAsync($"/api/v1/adminUsers/{id}", Json(new { disabled = true }))).AssertOk();
        Assert.True(disabled.GetProperty("disabled").GetBoolean());
        await (await theirs.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(HttpStatusCode.Redirect, (await portal.GetAsync(PortalSession.KeyPage)).StatusCode);
        var key = await app.KeyValueAsync(org);
        await (await app.LoginAsync(login, Password, key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");

        // Enabled again, they log in again; the ended sessions stay ended.
        await (await s.PutAsync($"/api/v1/adminUsers/{id}", Json(new { disabled = false }))).AssertOk();
        await (await theirs.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await app.LoginAsync(login, Password, key)).AssertOk();
    }

    [Fact]
    public async Task DeletingAnAdminEndsTheirSessionsAndFreesTheLoginName()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var (id, login) = await s.AddAdminAsync("Read Only Admin");
        using var theirs = await app.SessionOfAsync(org, login);
        Assert.Equal(HttpStatusCode.NoContent, (await s.DeleteAsync($"/api/v1/adminUsers/{id}")).StatusCode);
        await (await theirs.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await s.GetAsync($"/api/v1/adminUsers/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await s.DeleteAsync($"/api/v1/adminUsers/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await s.AddAdminAsync("Read Only Admin", login);
        var actions = (await app.AuditAsync(org.Id)).Where(a => a.Outcome == "SUCCESS").Select(a => a.Action).ToList();
        Assert.Equal(3, actions.Count(a => a == "admin.create")); // the org's first admin, then this one twice
        Assert.Contains("admin.delete", actions);
    }

    [Fact]
    public async Task ARoleChangeAppliesToTheAdminsLiveSessionAtItsNextRequest()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var (id, login) = await s.AddAdminAsync("Super Admin");
        using var theirs = await app.SessionOfAsync(org, login);
        await (await theirs.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        await (await s.PutAsync($"/api/v1/adminUsers/{id}", Json(new { role = "Read Only Admin" }))).AssertOk();
        await (await theirs.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await s.PutAsync($"/api/v1/adminUsers/{id}", Json(new { role = new { id = await s.RoleIdAsync("Super Admin") } }))).AssertOk();
        await (await theirs.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
    }

    [Fact]
    public async Task SearchAndPagingNarrowTheList()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        for (var i = 0; i < 3; i++) await s.AddAdminAsync("Read Only Admin", Unique("findme"));
        Assert.Equal(3, (await (await s.GetAsync("/api/v1/adminUsers?search=FINDME")).AssertOk()).GetArrayLength());
        Assert.Equal(4, (await (await s.GetAsync("/api/v1/adminUsers")).AssertOk()).GetArrayLength());
        var page2 = await (await s.GetAsync("/api/v1/adminUsers?page=2&pageSize=3")).AssertOk();
        Assert.Equal(1, page2.GetArrayLength());
        await (await s.GetAsync("/api/v1/adminUsers?pageSize=0")).AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await (await s.GetAsync("/api/v1/adminUsers/abc")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        var other = await app.CreateOrgAsync();
        using var so = await app.SessionAsync(other);
        var foreign = await so.SelfIdAsync(other);
        await (await s.GetAsync($"/api/v1/adminUsers/{foreign}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await s.PutAsync($"/api/v1/adminUsers/{foreign}", Json(new { comments = "x" }))).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }
}
