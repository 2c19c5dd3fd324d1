using System.Net;
using System.Text.RegularExpressions;
using static Keygate.Tests.ConsoleForms;

namespace Keygate.Tests;

/// <summary>/console/staff over HTTP: add, disable, enable, set password, delete; the refusals; each login's sessions end at once.</summary>
public sealed partial class ConsoleStaffTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private const string NewPassword = "another long password 9";

    [GeneratedRegex("data-staff-id=\"(\\d+)\"[^>]*>\\s*<td data-label=\"Username\"><span class=\"token\">([^<]+)</span>")]
    private static partial Regex StaffRow();

    private static async Task<long> IdOfAsync(HttpClient c, string username) =>
        long.Parse(StaffRow().Matches(await c.GetStringAsync(Staff)).Single(m => m.Groups[2].Value == username).Groups[1].Value);

    private static async Task<HttpStatusCode> ConsoleStatusAsync(HttpClient console) => (await console.GetAsync("/console")).StatusCode;

    private async Task<HttpStatusCode> LoginStatusAsync(string username, string password)
    {
        using var c = app.NewClient(handleCookies: true);
        return (await c.PostFormAsync("/login", "/login", new() { ["username"] = username, ["password"] = password })).StatusCode;
    }

    [Fact]
    public async Task AddedLoginsCanBeDisabledEnabledRepasswordedAndDeletedAndTheirSessionsEndAtOnce()
    {
        using var c = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        var username = Scenario.Unique("colleague");
        AssertRedirect(await c.PostHandlerAsync(Staff, "Add", new() { ["username"] = username, ["password"] = Scenario.Password }), "/console/staff?done=added");
        var id = await IdOfAsync(c, username);
        Assert.Equal(1, await app.AuditCountAsync("staff.create", $"username={username}"));

        using var colleague = await app.PortalLoginAsync(username, Scenario.Password);
        AssertRedirect(await c.PostHandlerAsync(Staff, "Disable", new() { ["staffId"] = id.ToString() }), "/console/staff?done=disabled");
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(colleague));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(username, Scenario.Password)); // the login page again: refused
        Assert.Contains("Disabled", Regex.Match(await c.GetStringAsync(Staff), $"data-staff-id=\"{id}\"[\\s\\S]*?</tr>").Value);

        AssertRedirect(await c.PostHandlerAsync(Staff, "Enable", new() { ["staffId"] = id.ToString() }), "/console/staff?done=enabled");
        using var again = await app.PortalLoginAsync(username, Scenario.Password);
        Assert.Contains("Set the password of", await c.GetStringAsync($"{Staff}?confirm=password&confirmStaff={id}"));
        AssertRedirect(await c.PostHandlerAsync(Staff, "Password", new() { ["staffId"] = id.ToString(), ["password"] = NewPassword }), "/console/staff?done=password");
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(again));
        using var third = await app.PortalLoginAsync(username, NewPassword);
        Assert.Equal(2, await app.AuditCountAsync("staff.update", $"username={username} disabled="));
        Assert.Equal(1, await app.AuditCountAsync("staff.update", $"username={username} password"));

        Assert.Contains("Delete the login", await c.GetStringAsync($"{Staff}?confirm=delete&confirmStaff={id}"));
        AssertRedirect(await c.PostHandlerAsync(Staff, "Delete", new() { ["staffId"] = id.ToString() }), "/console/staff?done=deleted");
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(third));
        Assert.DoesNotContain(username, await c.GetStringAsync(Staff));
        Assert.Equal(1, await app.AuditCountAsync("staff.delete", $"username={username}"));
    }

    [Fact]
    public async Task NobodyDisablesOrDeletesTheirOwnLoginButTheyCanSetTheirOwnPassword()
    {
        var me = await app.CreateStaffAsync();
        using var c = await app.PortalLoginAsync(me, Scenario.Password);
        using var elsewhere = await app.PortalLoginAsync(me, Scenario.Password);
        var id = await IdOfAsync(c, me);
        var row = Regex.Match(await c.GetStringAsync(Staff), $"data-staff-id=\"{id}\"[\\s\\S]*?</tr>").Value;
        Assert.Contains("(you)", row);
        Assert.DoesNotContain("Delete", row);

        const string own = "You cannot delete or disable your own account.";
        await AssertRefusedAsync(await c.PostHandlerAsync(Staff, "Disable", new() { ["staffId"] = id.ToString() }), HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT", own);
        await AssertRefusedAsync(await c.PostHandlerAsync(Staff, "Delete", new() { ["staffId"] = id.ToString() }), HttpStatusCode.Conflict, "CANNOT_CHANGE_OWN_ACCOUNT", own);
        Assert.Equal(1, await app.AuditCountAsync("staff.update", $"username={me}", "CANNOT_CHANGE_OWN_ACCOUNT"));
        Assert.Equal(1, await app.AuditCountAsync("staff.delete", $"username={me}", "CANNOT_CHANGE_OWN_ACCOUNT"));
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(c));

        // A new password of one's own ends the login's other sessions, not this one.
        AssertRedirect(await c.PostHandlerAsync(Staff, "Password", new() { ["staffId"] = id.ToString(), ["password"] = NewPassword }), "/console/staff?done=password");
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(c));
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(elsewhere));
        Assert.Equal(HttpStatusCode.Redirect, await LoginStatusAsync(me, NewPassword));
    }

    [Fact]
    public async Task BadOrTakenLoginsAreRefusedWithTheirReason()
    {
        var existing = await app.CreateStaffAsync();
        using var c = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        var html = await AssertRefusedAsync(await c.PostHandlerAsync(Staff, "Add", new() { ["username"] = "ab", ["password"] = "short" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "password must be 8 to 256 characters.");
        Assert.Contains("username must be 3 to 256 characters without spaces.", html);
        Assert.Contains("value=\"ab\"", html);
        await AssertRefusedAsync(await c.PostHandlerAsync(Staff, "Add", new() { ["username"] = existing.ToUpperInvariant(), ["password"] = Scenario.Password }),
            HttpStatusCode.Conflict, "USERNAME_TAKEN", "This username is already taken.");
        var id = await IdOfAsync(c, existing);
        await AssertRefusedAsync(await c.PostHandlerAsync(Staff, "Password", new() { ["staffId"] = id.ToString(), ["password"] = "short" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "password must be 8 to 256 characters.");
        Assert.Equal(HttpStatusCode.Redirect, await LoginStatusAsync(existing, Scenario.Password));
    }

    [Fact]
    public async Task ServiceProviderStaffManageOnlyTheirOwnLogins()
    {
        var sp = await app.CreateServiceProviderAsync();
        var operatorStaff = await app.CreateStaffAsync();
        using var op = await app.PortalLoginAsync(operatorStaff, Scenario.Password);
        var operatorStaffId = await IdOfAsync(op, operatorStaff);
        using var c = await app.PortalLoginAsync(await app.CreateStaffAsync(sp.Token), Scenario.Password);
        var page = await c.GetStringAsync(Staff);
        Assert.DoesNotContain(operatorStaff, page);
        foreach (var handler in new[] { "Disable", "Delete" })
            await AssertRefusedAsync(await c.PostHandlerAsync(Staff, handler, new() { ["staffId"] = operatorStaffId.ToString() }),
                HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "The resource does not exist.");
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(op));

        // A login it adds is its own; the operator's staff see it under the service provider's name.
        var username = Scenario.Unique("reseller");
        AssertRedirect(await c.PostHandlerAsync(Staff, "Add", new() { ["username"] = username, ["password"] = Scenario.Password }), "/console/staff?done=added");
        Assert.Matches($"{Regex.Escape(username)}</span></td>\\s*<td data-label=\"For\">{Regex.Escape(sp.Name)}</td>", await op.GetStringAsync(Staff));
    }

    [Fact]
    public async Task ForgedStaffPostsWithoutAntiforgeryChangeNothing()
    {
        var target = await app.CreateStaffAsync();
        using var c = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        var id = (await IdOfAsync(c, target)).ToString();
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("Add", new() { ["username"] = Scenario.Unique("forged"), ["password"] = Scenario.Password }), ("Disable", new() { ["staffId"] = id }),
                     ("Password", new() { ["staffId"] = id, ["password"] = NewPassword }), ("Delete", new() { ["staffId"] = id }),
                 })
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostHandlerAsync(Staff, handler, fields, forged: true)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, await LoginStatusAsync(target, Scenario.Password));
        Assert.DoesNotContain("forged-", await c.GetStringAsync(Staff));
    }
}
