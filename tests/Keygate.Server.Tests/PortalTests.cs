using System.Net;

namespace Keygate.Tests;

/// <summary>The portal's first door over HTTP (the browser journeys come with the portal issue).</summary>
public sealed class PortalTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task KeyPageShowsKeyBaseUrlStatusAndLastChangeAndIsNotCached()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var r = await c.GetAsync(PortalSession.KeyPage);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("no-store", r.Headers.CacheControl?.ToString());
        var html = await r.Content.ReadAsStringAsync();
        Assert.Contains("Administration", html);
        Assert.Contains("Cloud &amp; Branch Connector API", html);
        Assert.Contains("https://api.example.test/api/v1", html);
        Assert.Matches("data-key-value=\"[A-Za-z0-9]{12}\"", html);
        Assert.Contains("Enabled", html);
        Assert.Contains("Add Sandbox Submission API Key", html); // no sandbox key yet
        Assert.DoesNotContain("Add Cloud Service API Key", html);
    }

    [Fact]
    public async Task AddAppearsAfterDeleteAndWorks()
    {
        var org = await app.CreateOrgAsync();
        using (var session = await app.SessionAsync(org))
            await (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var html = await c.GetStringAsync(PortalSession.KeyPage);
        Assert.Contains("Add Cloud Service API Key", html);
        var r = await c.PostAsync(PortalSession.KeyPage + "?handler=Add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["keyType"] = "CLOUD_SERVICE", ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(html),
        }));
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        var key = await app.KeyValueAsync(org);
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    [Fact]
    public async Task ForgedPostWithoutAntiforgeryChangesNothing()
    {
        var org = await app.CreateOrgAsync();
        using (var session = await app.SessionAsync(org))
            await (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var r = await c.PostAsync(PortalSession.KeyPage + "?handler=Add", new FormUrlEncodedContent(new Dictionary<string, string> { ["keyType"] = "CLOUD_SERVICE" }));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("Add Cloud Service API Key", await c.GetStringAsync(PortalSession.KeyPage));
    }

    [Fact]
    public async Task WrongPasswordShowsAnErrorAndKeyPageNeedsLogin()
    {
        var org = await app.CreateOrgAsync();
        using var c = app.Client();
        var r = await c.GetAsync(PortalSession.KeyPage);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/login", r.Headers.Location!.PathAndQuery);
        using var browser = app.NewClient(handleCookies: true);
        var login = await browser.GetStringAsync("/login");
        var post = await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = org.Username, ["password"] = "not the password", ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(login),
        }));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Contains("Invalid username or password", await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PortalLoginWorksWithoutSubscriptionAndThePageIsReadOnly()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        var html = await app.PortalPageAsync(org.Username, org.Password);
        Assert.Contains("no API subscription", html);
        Assert.DoesNotContain("<button type=\"submit\" class=\"primary\">Add", html);
    }

    [Fact]
    public async Task ReadOnlyAdminSeesTheKeyButNoActions()
    {
        var org = await app.CreateOrgAsync();
        using (var session = await app.SessionAsync(org))
            await (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        var reader = Scenario.Unique("reader");
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/admins",
            Scenario.Json(new { username = reader, password = Scenario.Password, role = "READ_ONLY" }))).AssertOk(HttpStatusCode.Created);
        var html = await app.PortalPageAsync(reader, Scenario.Password);
        Assert.DoesNotContain("Add Cloud Service API Key", html);
    }
}
