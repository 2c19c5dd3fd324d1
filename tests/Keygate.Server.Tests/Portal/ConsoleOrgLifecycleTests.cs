using System.Net;
using System.Text.RegularExpressions;
using static Keygate.Tests.ConsoleForms;

namespace Keygate.Tests;

/// <summary>The org page's administrators, suspension and deletion over HTTP, with their effect on the legacy and provider APIs.</summary>
public sealed class ConsoleOrgLifecycleTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private async Task<HttpClient> ConsoleAsync(string? providerToken = null) =>
        await app.PortalLoginAsync(await app.CreateStaffAsync(providerToken), Scenario.Password);

    private static string Page(TestOrg org) => $"/console/organizations/{org.Id}";

    private async Task<string> NameOfAsync(TestOrg org) => (await app.OrgViewAsync(org.Id)).GetProperty("name").GetString()!;

    [Fact]
    public async Task AResetPasswordIsShownOnceEndsTheAdminsSessionsAndMustBeChanged()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);
        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        using var c = await ConsoleAsync();
        var page = await c.GetStringAsync(Page(org));
        var adminId = Regex.Match(page, "data-admin-id=\"(\\d+)\"").Groups[1].Value;
        Assert.Contains(org.Username, page);
        Assert.Contains("Super Admin", page);
        var confirm = await c.GetStringAsync($"{Page(org)}?confirm=reset&confirmAdmin={adminId}");
        Assert.Contains($"Reset the password of {org.Username}?", confirm);
        Assert.Matches("data-cancel autofocus>Cancel", confirm);

        var r = await c.PostHandlerAsync(Page(org), "ResetPassword", new() { ["adminId"] = adminId });
        var temporary = await SecretOfAsync(r);
        Assert.DoesNotContain(temporary, await c.GetStringAsync(Page(org)));
        Assert.Contains("Must change password", await c.GetStringAsync(Page(org)));
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(HttpStatusCode.Redirect, (await portal.GetAsync(PortalSession.KeyPage)).StatusCode);
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await app.LoginAsync(org.Username, temporary, key)).AssertError(HttpStatusCode.Forbidden, "PASSWORD_EXPIRED");
        Assert.Equal(1, await app.AuditCountAsync("admin.reset_password", $"id={adminId} username={org.Username}"));

        await AssertRefusedAsync(await c.PostHandlerAsync(Page(org), "ResetPassword", new() { ["adminId"] = "999999" }),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "The resource does not exist.");
    }

    [Fact]
    public async Task ASuspendedOrgIsRefusedEverywhereMarkedInTheListAndResumed()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        var name = await NameOfAsync(org);
        using var c = await ConsoleAsync();
        Assert.Contains($"Suspend {name}?", await c.GetStringAsync($"{Page(org)}?confirm=suspend"));
        AssertRedirect(await c.PostHandlerAsync(Page(org), "Suspend", new() { ["note"] = "unpaid invoices" }), $"{Page(org)}?done=suspended");
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.Forbidden, "ORG_SUSPENDED");
        Assert.True((await app.OrgViewAsync(org.Id)).GetProperty("suspended").GetBoolean());
        Assert.Contains("id=\"suspended-banner\"", await c.GetStringAsync(Page(org)));
        var row = Regex.Match(await c.GetStringAsync("/console?q=" + Uri.EscapeDataString(name)), $"data-org-id=\"{org.Id}\"[\\s\\S]*?</tr>").Value;
        Assert.Contains("data-suspended>Suspended", row);
        Assert.Equal(1, await app.AuditCountAsync("org.suspend", "unpaid invoices"));

        await AssertRefusedAsync(await c.PostHandlerAsync(Page(org), "Suspend", new() { ["note"] = new string('x', 1001) }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "note must be at most 1000 characters.");
        AssertRedirect(await c.PostHandlerAsync(Page(org), "Resume"), $"{Page(org)}?done=resumed");
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
        Assert.DoesNotContain("data-suspended", Regex.Match(await c.GetStringAsync("/console?q=" + Uri.EscapeDataString(name)), $"data-org-id=\"{org.Id}\"[\\s\\S]*?</tr>").Value);
        Assert.Equal(1, await app.AuditCountAsync("org.resume", ""));
    }

    [Fact]
    public async Task OnlyASuspendedOrgIsDeletedAndOnlyWhenItsNameIsTyped()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        var name = await NameOfAsync(org);
        using var c = await ConsoleAsync();
        Assert.DoesNotContain("Delete organization", await c.GetStringAsync(Page(org)));
        await AssertRefusedAsync(await c.PostHandlerAsync(Page(org), "Delete", new() { ["confirmName"] = name }),
            HttpStatusCode.Conflict, "ORG_NOT_SUSPENDED", "Only a suspended organization can be deleted; suspend it first.");

        AssertRedirect(await c.PostHandlerAsync(Page(org), "Suspend"), $"{Page(org)}?done=suspended");
        var confirm = await c.GetStringAsync($"{Page(org)}?confirm=delete");
        Assert.Contains("Type the organization's name to confirm", confirm);
        var html = await AssertRefusedAsync(await c.PostHandlerAsync(Page(org), "Delete", new() { ["confirmName"] = name + "x" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "Type the organization's name exactly as shown to delete it.");
        Assert.Contains("aria-invalid=\"true\"", html);
        await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();

        AssertRedirect(await c.PostHandlerAsync(Page(org), "Delete", new() { ["confirmName"] = name }), "/console?done=deleted");
        Assert.Contains("The organization was deleted.", await c.GetStringAsync("/console?done=deleted"));
        await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync(Page(org))).StatusCode);
        Assert.DoesNotContain($"data-org-id=\"{org.Id}\"", await c.GetStringAsync("/console"));
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Equal(1, await app.AuditCountAsync("org.deleted", $"name={name}"));
    }

    [Fact]
    public async Task AServiceProvidersStaffCannotTouchAnotherProvidersOrg()
    {
        var sp = await app.CreateServiceProviderAsync();
        var org = await app.CreateOrgAsync();
        using var c = await ConsoleAsync(sp.Token);
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("Suspend", new()), ("Resume", new()), ("Delete", new() { ["confirmName"] = await NameOfAsync(org) }), ("ResetPassword", new() { ["adminId"] = "1" }),
                 })
        {
            // The page is the same 404 as a missing org, so the form's token comes from the staff member's own page.
            var r = await c.PostFormAsync("/console/tokens", $"{Page(org)}?handler={handler}", fields);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        Assert.False((await app.OrgViewAsync(org.Id)).GetProperty("suspended").GetBoolean());
    }

    [Fact]
    public async Task ForgedLifecyclePostsWithoutAntiforgeryChangeNothing()
    {
        var org = await app.CreateOrgAsync();
        using var c = await ConsoleAsync();
        foreach (var handler in new[] { "Suspend", "ResetPassword" })
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostHandlerAsync(Page(org), handler, new() { ["adminId"] = "1" }, forged: true)).StatusCode);
        Assert.False((await app.OrgViewAsync(org.Id)).GetProperty("suspended").GetBoolean());
        AssertRedirect(await c.PostHandlerAsync(Page(org), "Suspend"), $"{Page(org)}?done=suspended");
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[] { ("Resume", new()), ("Delete", new() { ["confirmName"] = await NameOfAsync(org) }) })
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostHandlerAsync(Page(org), handler, fields, forged: true)).StatusCode);
        Assert.True((await app.OrgViewAsync(org.Id)).GetProperty("suspended").GetBoolean());
    }
}
