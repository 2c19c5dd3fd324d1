using System.Net;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>/api/v1/adminRoles (contract A8) over HTTP: the built-ins, custom roles, ROLE_IN_USE and the rights they give.</summary>
public sealed class AdminRolesTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task EveryOrgHasTheTwoBuiltInNonEditableRolesWithEveryFeature()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var roles = (await (await s.GetAsync("/api/v1/adminRoles")).AssertOk()).EnumerateArray().ToList();
        Assert.Equal(["Super Admin", "Read Only Admin"], roles.Select(r => r.GetProperty("name").GetString()));
        foreach (var (role, level) in roles.Zip(new[] { "READ_WRITE", "READ_ONLY" }))
        {
            Assert.True(role.GetProperty("isNonEditable").GetBoolean());
            Assert.False(role.GetProperty("isAuditor").GetBoolean());
            Assert.Equal("EDGE_CONNECTOR_ADMIN", role.GetProperty("roleType").GetString());
            var permissions = role.GetProperty("featurePermissions").EnumerateObject().ToList();
            Assert.Contains(permissions, p => p.Name == "APIKEY_MANAGEMENT");
            Assert.Contains(permissions, p => p.Name == "EDGE_CONNECTOR_ADMIN_MANAGEMENT");
            Assert.All(permissions, p => Assert.Equal(level, p.Value.GetString()));
        }
        var id = roles[0].GetProperty("id").GetInt64();
        Assert.Equal("Super Admin", (await (await s.GetAsync($"/api/v1/adminRoles/{id}")).AssertOk()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task ACustomRoleIsAddedChangedAndDeletedAndItsUnknownFeaturesAreIgnored()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var created = await (await s.PostAsync("/api/v1/adminRoles", Json(new
        {
            name = "Key Keepers", rank = 5, isAuditor = true,
            featurePermissions = new { APIKEY_MANAGEMENT = "READ_WRITE", SOMETHING_NEW = "READ_WRITE" },
        }))).AssertOk(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetInt64();
        Assert.False(created.GetProperty("isNonEditable").GetBoolean());
        Assert.Equal(5, created.GetProperty("rank").GetInt32());
        Assert.True(created.GetProperty("isAuditor").GetBoolean());
        var p = created.GetProperty("featurePermissions");
        Assert.Equal("READ_WRITE", p.GetProperty("APIKEY_MANAGEMENT").GetString());
        Assert.Equal("NONE", p.GetProperty("EDGE_CONNECTOR_ADMIN_MANAGEMENT").GetString());
        Assert.False(p.TryGetProperty("SOMETHING_NEW", out _));

        var changed = await (await s.PutAsync($"/api/v1/adminRoles/{id}", Json(new { name = "Key Readers", featurePermissions = new { APIKEY_MANAGEMENT = "READ_ONLY" } })))
            .AssertOk();
        Assert.Equal("Key Readers", changed.GetProperty("name").GetString());
        Assert.Equal("READ_ONLY", changed.GetProperty("featurePermissions").GetProperty("APIKEY_MANAGEMENT").GetString());
        await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "key readers" }))).AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "Bad", featurePermissions = new { APIKEY_MANAGEMENT = "ALL" } })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        Assert.Equal(HttpStatusCode.NoContent, (await s.DeleteAsync($"/api/v1/adminRoles/{id}")).StatusCode);
        await (await s.GetAsync($"/api/v1/adminRoles/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        var audit = await app.AuditAsync(org.Id);
        Assert.Contains(("role.create", "SUCCESS"), audit);
        Assert.Contains(("role.update", "SUCCESS"), audit);
        Assert.Contains(("role.delete", "SUCCESS"), audit);
    }

    [Fact]
    public async Task TheBuiltInRolesCannotBeChangedOrDeleted()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        foreach (var name in new[] { "Super Admin", "Read Only Admin" })
        {
            var id = await s.RoleIdAsync(name);
            await (await s.PutAsync($"/api/v1/adminRoles/{id}", Json(new { name = "Mine" }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
            await (await s.DeleteAsync($"/api/v1/adminRoles/{id}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        }
    }

    [Fact]
    public async Task ARoleGivenToAnAdminIsRoleInUseUntilTheyLoseIt()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var role = (await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "Temps" }))).AssertOk(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var (admin, _) = await s.AddAdminAsync(new { id = role });
        await (await s.DeleteAsync($"/api/v1/adminRoles/{role}")).AssertError(HttpStatusCode.Conflict, "ROLE_IN_USE");
        await (await s.PutAsync($"/api/v1/adminUsers/{admin}", Json(new { role = "Read Only Admin" }))).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await s.DeleteAsync($"/api/v1/adminRoles/{role}")).StatusCode);
    }

    [Fact]
    public async Task ChangingACustomRoleSoThatNobodyCanManageAdminsIsLastSuperAdminAndItsChangesApplyToLiveSessions()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var role = (await (await s.PostAsync("/api/v1/adminRoles", Json(new
        {
            name = "Managers", featurePermissions = new { APIKEY_MANAGEMENT = "READ_WRITE", EDGE_CONNECTOR_ADMIN_MANAGEMENT = "READ_WRITE" },
        }))).AssertOk(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var (_, login) = await s.AddAdminAsync("Managers");
        using var m = await app.SessionOfAsync(org, login);
        await (await m.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        // The first admin becomes read-only: the Managers admin is now the only one who can manage admins.
        await (await m.PutAsync($"/api/v1/adminUsers/{await s.SelfIdAsync(org)}", Json(new { role = "Read Only Admin" }))).AssertOk();
        await (await m.PutAsync($"/api/v1/adminRoles/{role}", Json(new { featurePermissions = new { EDGE_CONNECTOR_ADMIN_MANAGEMENT = "READ_ONLY" } })))
            .AssertError(HttpStatusCode.Conflict, "LAST_SUPER_ADMIN");
        // Taking key rights away from the role holds for its admin's live session at the next request.
        await (await m.PutAsync($"/api/v1/adminRoles/{role}", Json(new { featurePermissions = new { APIKEY_MANAGEMENT = "READ_ONLY" } }))).AssertOk();
        await (await m.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task AReadOnlyAdminCannotAddChangeOrDeleteRoles()
    {
        var org = await app.CreateOrgAsync();
        using var s = await app.SessionAsync(org);
        var role = (await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "Spare" }))).AssertOk(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var (_, login) = await s.AddAdminAsync("Read Only Admin");
        using var ro = await app.SessionOfAsync(org, login);
        await (await ro.PostAsync("/api/v1/adminRoles", Json(new { name = "Mine" }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await ro.PutAsync($"/api/v1/adminRoles/{role}", Json(new { name = "Mine" }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await ro.DeleteAsync($"/api/v1/adminRoles/{role}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }
}
