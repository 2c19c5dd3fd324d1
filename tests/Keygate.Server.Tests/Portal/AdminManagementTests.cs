using System.Net;
using static Keygate.Tests.AdminPortalKit;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Administration › Administrator Management over HTTP (contract A8 in the portal): admins and roles through the same
/// AdminDirectory as the legacy API, with its rights, refusals and audit; the browser journeys are in AdminManagementBrowserTests.
/// </summary>
public sealed class AdminManagementTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task ASuperAdminAddsEditsDisablesEnablesAndDeletesAnAdminAndEveryChangeIsAudited()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var readOnly = await c.RoleOnPageAsync("Read Only Admin");
        var login = Unique("grace");
        (await c.SubmitAsync(Admins, "Add", NewAdmin(login, readOnly))).AssertRedirect($"{Admins}?done=add");
        var html = await c.GetStringAsync(Admins);
        Assert.Contains($"data-admin=\"{login}\"", html);
        Assert.Contains("grace@example.test", html);
        var id = await app.AdminIdAsync(org.Id, login);

        // The new admin logs in with the initial password; a read-only role shows the list without its actions.
        using var grace = await app.PortalLoginAsync(login, Password);
        var seen = await grace.GetStringAsync(Admins);
        Assert.Contains("read-only access", seen);
        Assert.DoesNotContain("Add an administrator", seen);

        var superAdmin = await c.RoleOnPageAsync("Super Admin");
        (await c.SubmitAsync(Admins, "Edit", new() { ["adminId"] = $"{id}", ["Form.UserName"] = "Grace B. Hopper", ["Form.Email"] = "gbh@example.test", ["Form.RoleId"] = superAdmin }))
            .AssertRedirect($"{Admins}?done=edit");
        // A role change applies to her login at its next request.
        Assert.Contains("Add an administrator", await grace.GetStringAsync(Admins));
        Assert.Contains("Grace B. Hopper", await c.GetStringAsync(Admins));

        (await c.SubmitAsync(Admins, "Disable", new() { ["adminId"] = $"{id}" })).AssertRedirect($"{Admins}?done=disable");
        var ended = await grace.GetAsync(Admins);
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.StartsWith("/login", ended.Headers.Location!.PathAndQuery);
        (await c.SubmitAsync(Admins, "Enable", new() { ["adminId"] = $"{id}" })).AssertRedirect($"{Admins}?done=enable");
        using (var again = await app.PortalLoginAsync(login, Password)) Assert.Contains("Grace B. Hopper", await again.GetStringAsync(Admins));

        (await c.SubmitAsync(Admins, "Delete", new() { ["adminId"] = $"{id}" })).AssertRedirect($"{Admins}?done=delete");
        Assert.DoesNotContain($"data-admin=\"{login}\"", await c.GetStringAsync(Admins));

        var audit = await app.AuditAsync(org.Id);
        foreach (var action in new[] { "admin.create", "admin.update", "admin.delete" }) Assert.Contains((action, "SUCCESS"), audit);
        Assert.Equal(3, audit.Count(a => a == ("admin.update", "SUCCESS")));
    }

    [Fact]
    public async Task EveryRefusalIsShownOnThePageWithTheApisCodeAndChangesNothing()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var readOnly = await c.RoleOnPageAsync("Read Only Admin");
        var self = await app.AdminIdAsync(org.Id, org.Username);

        await (await c.SubmitAsync(Admins, "Add", NewAdmin(org.Username.ToUpperInvariant(), readOnly))).AssertRefusedAsync(HttpStatusCode.Conflict, "USERNAME_TAKEN");
        var html = await (await c.SubmitAsync(Admins, "Add", NewAdmin(Unique("weak"), readOnly, "too short"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_PASSWORD");
        Assert.Contains("id=\"add-password-error\"", html);
        Assert.Contains("grace@example.test", html); // the form keeps what was typed, never the password
        Assert.DoesNotContain("too short", html);
        html = await (await c.SubmitAsync(Admins, "Add", NewAdmin("a b", readOnly))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Contains("id=\"add-loginName-error\"", html);
        await (await c.SubmitAsync(Admins, "Add", NewAdmin(Unique("norole"), "999999"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        await (await c.SubmitAsync(Admins, "Disable", new() { ["adminId"] = $"{self}" })).AssertRefusedAsync(HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT");
        await (await c.SubmitAsync(Admins, "Delete", new() { ["adminId"] = $"{self}" })).AssertRefusedAsync(HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT");
        // The only admin who can manage admins cannot demote themselves.
        html = await (await c.SubmitAsync(Admins, "Edit", new() { ["adminId"] = $"{self}", ["Form.RoleId"] = readOnly })).AssertRefusedAsync(HttpStatusCode.Conflict, "LAST_SUPER_ADMIN");
        Assert.Contains("id=\"edit-title\"", html); // the edit form stays open with the reason

        Assert.Single((await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/admins")).AssertOk()).EnumerateArray());
        Assert.Contains("Add an administrator", await c.GetStringAsync(Admins));
        var audit = await app.AuditAsync(org.Id);
        foreach (var code in new[] { "USERNAME_TAKEN", "INVALID_PASSWORD", "CANNOT_CHANGE_OWN_ACCOUNT", "LAST_SUPER_ADMIN" })
            Assert.Contains(audit, a => a.Outcome == code);
    }

    [Fact]
    public async Task AReadOnlyAdminSeesTheListButEveryPostIsTheForbiddenPage()
    {
        var org = await app.CreateOrgAsync();
        var reader = await app.AddAdminAsync(org.Id, "READ_ONLY");
        using var c = await app.PortalLoginAsync(reader, Password);
        var html = await c.GetStringAsync(Admins);
        Assert.Contains($"data-admin=\"{org.Username}\"", html);
        Assert.DoesNotContain("Add an administrator", html);
        Assert.DoesNotContain("?confirm=delete", html);
        Assert.Contains("href=\"/admin/administrators\"", html); // listing is READ_ONLY's right: the nav offers it

        var self = await app.AdminIdAsync(org.Id, org.Username);
        await (await c.SubmitAsync(Admins, "Add", NewAdmin(Unique("sneaky"), "1"))).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await c.SubmitAsync(Admins, "Delete", new() { ["adminId"] = $"{self}" })).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await c.SubmitAsync(Roles, "Add", RoleForm("Sneaky"))).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        Assert.Equal(2, (await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/admins")).AssertOk()).GetArrayLength());
        Assert.Contains(("admin.create", "ACCESS_DENIED"), await app.AuditAsync(org.Id));
    }

    [Fact]
    public async Task ACustomRoleWithoutAdminManagementSeesNeitherListNorNavAndCannotPost()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        (await c.SubmitAsync(Roles, "Add", RoleForm("Key keeper", ("APIKEY_MANAGEMENT", "READ_WRITE")))).AssertRedirect($"{Roles}?done=add");
        var keeper = Unique("keeper");
        (await c.SubmitAsync(Admins, "Add", NewAdmin(keeper, await c.RoleOnPageAsync("Key keeper")))).AssertRedirect($"{Admins}?done=add");

        using var k = await app.PortalLoginAsync(keeper, Password);
        var keys = await k.GetStringAsync(PortalSession.KeyPage);
        Assert.DoesNotContain("href=\"/admin/administrators\"", keys);
        Assert.DoesNotContain("href=\"/admin/roles\"", keys);
        Assert.Contains("href=\"/admin/password\"", keys);
        var html = await k.GetStringAsync(Admins);
        Assert.Contains("does not give access to the administrators", html);
        Assert.DoesNotContain($"data-admin=\"{org.Username}\"", html);
        Assert.Contains("does not give access to the roles", await k.GetStringAsync(Roles));
        var self = await app.AdminIdAsync(org.Id, org.Username);
        await (await k.SubmitAsync(Admins, "Add", NewAdmin(Unique("sneaky"), "1"))).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await k.SubmitAsync(Admins, "Disable", new() { ["adminId"] = $"{self}" })).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await k.SubmitAsync(Roles, "Add", RoleForm("Sneaky"))).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task AnotherOrgsAdminOrRoleIsNotFound()
    {
        var org = await app.CreateOrgAsync();
        var other = await app.CreateOrgAsync();
        var stranger = await app.AdminIdAsync(other.Id, other.Username);
        using var o = await app.PortalLoginAsync(other.Username, other.Password);
        (await o.SubmitAsync(Roles, "Add", RoleForm("Theirs"))).AssertRedirect($"{Roles}?done=add");
        var theirRole = await o.RoleOnPageAsync("Theirs");

        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync($"{Admins}?confirm=delete&admin={stranger}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync($"{Roles}?confirm=edit&role={theirRole}")).StatusCode);
        foreach (var handler in new[] { "Disable", "Enable", "Delete" })
            await (await c.SubmitAsync(Admins, handler, new() { ["adminId"] = $"{stranger}" })).AssertRefusedAsync(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await c.SubmitAsync(Admins, "Edit", new() { ["adminId"] = $"{stranger}", ["Form.UserName"] = "x" })).AssertRefusedAsync(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await c.SubmitAsync(Roles, "Delete", new() { ["roleId"] = theirRole })).AssertRefusedAsync(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await c.SubmitAsync(Roles, "Edit", RoleForm("Mine now").Append(new("roleId", theirRole)).ToDictionary())).AssertRefusedAsync(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        using var still = await app.PortalLoginAsync(other.Username, other.Password);
        Assert.Contains(">Theirs<", await still.GetStringAsync(Roles));
    }

    [Fact]
    public async Task ACustomRoleIsAddedWithItsMatrixChangedAndDeletedOnlyWhenNoAdminHasIt()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        (await c.SubmitAsync(Roles, "Add", RoleForm("Auditor", ("APIKEY_MANAGEMENT", "READ_ONLY"), ("EDGE_CONNECTOR_DASHBOARD", "READ_WRITE"))))
            .AssertRedirect($"{Roles}?done=add");
        var roleId = await c.RoleOnPageAsync("Auditor");
        using (var session = await app.SessionAsync(org))
        {
            var role = (await (await session.GetAsync($"/api/v1/adminRoles/{roleId}")).AssertOk()).GetProperty("featurePermissions");
            Assert.Equal("READ_ONLY", role.GetProperty("APIKEY_MANAGEMENT").GetString());
            Assert.Equal("READ_WRITE", role.GetProperty("EDGE_CONNECTOR_DASHBOARD").GetString());
            Assert.Equal("NONE", role.GetProperty("EDGE_CONNECTOR_ADMIN_MANAGEMENT").GetString());
        }
        await (await c.SubmitAsync(Roles, "Add", RoleForm("auditor"))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await (await c.SubmitAsync(Roles, "Add", RoleForm("Odd", ("APIKEY_MANAGEMENT", "2")))).AssertRefusedAsync(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        (await c.SubmitAsync(Roles, "Edit", RoleForm("Auditors", ("APIKEY_MANAGEMENT", "NONE")).Append(new("roleId", roleId)).ToDictionary()))
            .AssertRedirect($"{Roles}?done=edit");
        var html = await c.GetStringAsync(Roles);
        Assert.Contains("data-role=\"Auditors\"", html);

        var login = Unique("auditor");
        (await c.SubmitAsync(Admins, "Add", NewAdmin(login, roleId))).AssertRedirect($"{Admins}?done=add");
        await (await c.SubmitAsync(Roles, "Delete", new() { ["roleId"] = roleId })).AssertRefusedAsync(HttpStatusCode.Conflict, "ROLE_IN_USE");
        (await c.SubmitAsync(Admins, "Delete", new() { ["adminId"] = $"{await app.AdminIdAsync(org.Id, login)}" })).AssertRedirect($"{Admins}?done=delete");
        (await c.SubmitAsync(Roles, "Delete", new() { ["roleId"] = roleId })).AssertRedirect($"{Roles}?done=delete");
        Assert.DoesNotContain("data-role=\"Auditors\"", await c.GetStringAsync(Roles));

        // The built-in roles are not offered for change, and a form posted anyway is refused.
        var builtIn = await c.RoleOnPageAsync("Super Admin");
        Assert.DoesNotContain($"role={builtIn}", await c.GetStringAsync(Roles));
        await (await c.SubmitAsync(Roles, "Delete", new() { ["roleId"] = builtIn })).AssertRefusedAsync(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var audit = await app.AuditAsync(org.Id);
        foreach (var action in new[] { "role.create", "role.update", "role.delete" }) Assert.Contains((action, "SUCCESS"), audit);
        Assert.Contains(("role.delete", "ROLE_IN_USE"), audit);
    }
}
