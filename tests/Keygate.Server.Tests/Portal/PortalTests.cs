using System.Net;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>The key page over HTTP: what it shows, and its first form; the journeys are in PortalBrowserTests.</summary>
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

    /// <summary>
    /// Contract A4 v3: a disabled Cloud Service key freezes every key change of the org, the sandbox key's included;
    /// the page asks the lifecycle's question, so it stops offering them, and a form posted anyway is refused.
    /// </summary>
    [Fact]
    public async Task ADisabledCloudServiceKeyFreezesTheSandboxKeyAndThePageStopsOfferingItsChanges()
    {
        static string SandboxSection(string html) => Regex.Match(html, "data-key-type=\"SANDBOX_SUBMISSION\"[\\s\\S]*").Value;
        var page = PortalSession.KeyPage;
        var org = await app.CreateOrgAsync();
        long sandboxId;
        using (var session = await app.SessionAsync(org))
            sandboxId = (await (await session.PostAsync("/api/v1/apiKeys", Scenario.Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var sandbox = await app.KeyValueAsync(org, "SANDBOX_SUBMISSION");
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        Assert.Contains("confirm=regenerate", SandboxSection(await c.GetStringAsync(page)));
        await app.DisableKeyAsync(org);

        var html = await c.GetStringAsync(page);
        Assert.Contains("No key of your organization can be added or changed while it is disabled", html);
        Assert.DoesNotContain("confirm=", SandboxSection(html));
        Assert.DoesNotContain("<dialog", await c.GetStringAsync($"{page}?confirm=regenerate&confirmKey={sandboxId}"));
        foreach (var handler in new[] { "Regenerate", "Delete" })
        {
            var r = await c.PostFormAsync(page, $"{page}?handler={handler}", new() { ["keyId"] = sandboxId.ToString() });
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Contains(KeygateError.KeyDisabledConflict.Message, await r.Content.ReadAsStringAsync());
        }
        Assert.Equal(sandbox, await app.KeyValueAsync(org, "SANDBOX_SUBMISSION"));

        // With no sandbox key, none can be added either.
        var bare = await app.CreateOrgAsync();
        await app.DisableKeyAsync(bare);
        using var b = await app.PortalLoginAsync(bare.Username, bare.Password);
        Assert.DoesNotContain("Add Sandbox Submission API Key", await b.GetStringAsync(page));
        var add = await b.PostFormAsync(page, $"{page}?handler=Add", new() { ["keyType"] = "SANDBOX_SUBMISSION" });
        Assert.Equal(HttpStatusCode.Conflict, add.StatusCode);
        Assert.DoesNotContain("data-key-value", SandboxSection(await b.GetStringAsync(page)));
    }

    [Fact]
    public async Task ReadOnlyAdminSeesTheKeyButNoActions()
    {
        var org = await app.CreateOrgAsync();
        var value = await app.KeyValueAsync(org);
        using var reader = await app.PortalLoginAsync(await app.AddAdminAsync(org.Id, "READ_ONLY"), Scenario.Password);
        var html = await reader.GetStringAsync(PortalSession.KeyPage);
        Assert.Equal(value, Scenario.KeyValueOnPage(html));
        // No Edit, Regenerate or Delete, no Add for the missing sandbox key, and no form that changes a key.
        foreach (var action in new[] { "confirm=edit", "confirm=regenerate", "confirm=delete", "class=\"actions\"", "Add Sandbox Submission API Key", "?handler=" })
            Assert.DoesNotContain(action, html);
        // Nor does the address of a confirmation bring its form up.
        foreach (var confirm in new[] { "edit", "regenerate", "delete" })
            Assert.DoesNotContain("?handler=", await reader.GetStringAsync($"{PortalSession.KeyPage}?confirm={confirm}&confirmKey={org.KeyId}"));
    }
}

/// <summary>The portal and console over HTTP: what a browser test cannot see (headers, forged posts, idle time, throttling).</summary>
public sealed partial class PortalSecurityTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private const string Sessions = "/admin/sessions";

    [Fact]
    public async Task ForgedPortalPostsWithoutAntiforgeryChangeNothing()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var page = PortalSession.KeyPage;
        var forged = new (string Action, Dictionary<string, string> Fields)[]
        {
            ($"{page}?handler=Edit", new() { ["keyId"] = org.KeyId.ToString(), ["newValue"] = "Forged123456" }),
            ($"{page}?handler=Regenerate", new() { ["keyId"] = org.KeyId.ToString() }),
            ($"{page}?handler=Delete", new() { ["keyId"] = org.KeyId.ToString() }),
            ($"{page}?handler=Add", new() { ["keyType"] = "SANDBOX_SUBMISSION" }),
            ($"{Sessions}?handler=EndAll", new()),
            ($"{Sessions}?handler=Switch", new() { ["endSessionsOnKeyChange"] = "true" }),
        };
        foreach (var (action, fields) in forged)
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostFormAsync(page, action, fields, forged: true)).StatusCode);

        Assert.Equal(key, await app.KeyValueAsync(org));
        Assert.DoesNotContain("data-key-value", Regex.Match(await c.GetStringAsync(page), "data-key-type=\"SANDBOX_SUBMISSION\"[\\s\\S]*").Value);
        Assert.False((await app.OrgViewAsync(org.Id)).GetProperty("endSessionsOnKeyChange").GetBoolean());
        await (await session.GetAsync("/api/v1/auth")).AssertOk();
    }

    [Fact]
    public async Task ForgedConsolePostsWithoutAntiforgeryChangeNothing()
    {
        var org = await app.CreateOrgAsync(expiresAt: app.NowMs / 1000 + 86_400);
        var before = (await app.OrgViewAsync(org.Id)).GetRawText();
        using var c = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        var page = $"/console/organizations/{org.Id}";
        var forged = new (string Handler, Dictionary<string, string> Fields)[]
        {
            ("Disable", new() { ["keyId"] = org.KeyId.ToString(), ["reason"] = "TERMS_VIOLATION" }),
            ("Enable", new() { ["keyId"] = org.KeyId.ToString() }),
            ("Subscription", new() { ["expiresAt"] = "" }),
            ("Renew", new()),
            ("Limits", new() { ["Limits.Calls"] = "7" }),
        };
        foreach (var (handler, fields) in forged)
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostFormAsync(page, $"{page}?handler={handler}", fields, forged: true)).StatusCode);
        Assert.Equal(before, (await app.OrgViewAsync(org.Id)).GetRawText());

        // The same form with its token does change the org: the refusals above were the missing token's.
        var r = await c.PostFormAsync(page, $"{page}?handler=Disable", forged[0].Fields);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal("DISABLED", (await app.OrgViewAsync(org.Id)).GetProperty("keys")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task PortalAndConsolePagesCarrySecurityHeadersAndTheApisDoNot()
    {
        var org = await app.CreateOrgAsync();
        using var admin = await app.PortalLoginAsync(org.Username, org.Password);
        using var staff = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        foreach (var (client, path) in new[] { (app.Client(), "/login"), (admin, PortalSession.KeyPage), (admin, Sessions), (staff, "/console"),
                     (staff, $"/console/organizations/{org.Id}"), (app.Client(), "/portal.js") })
        {
            var r = await client.GetAsync(path);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{path}: {(int)r.StatusCode}");
            var csp = r.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("script-src 'self'", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", r.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", r.Headers.GetValues("Referrer-Policy").Single());
            if (path != "/portal.js") Assert.Contains("no-store", r.Headers.CacheControl?.ToString());
            var html = await r.Content.ReadAsStringAsync();
            Assert.DoesNotMatch("<script>|<script [^>]*>[^<]|\\son[a-z]+=\"|style=\"", html); // nothing inline for the CSP to refuse
        }
        var legacy = await app.Client().GetAsync("/api/v1/auth");
        await legacy.AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        var provider = await app.Provider().GetAsync("/provider/v1/organizations");
        foreach (var r in new[] { legacy, provider })
        {
            Assert.False(r.Headers.Contains("Content-Security-Policy"));
            Assert.False(r.Headers.Contains("X-Frame-Options"));
        }
    }

    [Fact]
    public async Task OrgAdminsAndStaffCannotOpenEachOthersArea()
    {
        var org = await app.CreateOrgAsync();
        using var admin = await app.PortalLoginAsync(org.Username, org.Password);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync($"/console/organizations/{org.Id}")).StatusCode);
        using var staff = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync(PortalSession.KeyPage)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync(Sessions)).StatusCode);
        Assert.Equal("/console", (await staff.GetAsync("/")).Headers.Location!.OriginalString);

        // Logged out, the console sends to the login, which goes back there only for staff.
        var r = await app.Client().GetAsync("/console/organizations/1");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/login?ReturnUrl=%2Fconsole", r.Headers.Location!.PathAndQuery);
        using var c = app.NewClient(handleCookies: true);
        var login = await c.PostFormAsync("/login", "/login?ReturnUrl=%2Fconsole%2Forganizations%2F1",
            new() { ["username"] = org.Username, ["password"] = org.Password });
        Assert.Equal(PortalSession.KeyPage, login.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task PortalLoginWorksWhateverStateTheKeyIsIn()
    {
        var disabled = await app.CreateOrgAsync();
        await app.DisableKeyAsync(disabled);
        var expired = await app.CreateOrgAsync(expiresAt: app.NowMs / 1000 - 1);
        var deleted = await app.CreateOrgAsync();
        using (var session = await app.SessionAsync(deleted))
            await (await session.DeleteAsync($"/api/v1/apiKeys/{deleted.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        var never = await app.CreateOrgAsync(subscribe: false);
        foreach (var (org, shows) in new[] { (disabled, "Disabled"), (expired, "Subscription expired"), (deleted, "Add Cloud Service API Key"), (never, "no API subscription") })
            Assert.Contains(shows, await app.PortalPageAsync(org.Username, org.Password));
    }

    [Fact]
    public async Task APortalSessionEndsAfterThirtyIdleMinutes()
    {
        await using var idle = new KeygateApp();
        var org = await idle.CreateOrgAsync();
        using var c = await idle.PortalLoginAsync(org.Username, org.Password);
        // Each request starts another 30 minutes, also one early in the previous 30 (where plain sliding expiration would not renew).
        foreach (var minutes in new[] { 14, 29, 29 })
        {
            idle.Clock.Advance(TimeSpan.FromMinutes(minutes));
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync(PortalSession.KeyPage)).StatusCode);
        }
        idle.Clock.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));
        var r = await c.GetAsync(PortalSession.KeyPage);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/login", r.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task LogoutEndsThePortalSessionEvenForACopyOfTheCookie()
    {
        var org = await app.CreateOrgAsync();
        using var c = app.Client(); // cookies by hand, so the logged-out cookie can be replayed
        var cookies = await c.PortalLoginByHandAsync(org.Username, org.Password);
        await c.PortalLogoutByHandAsync(cookies);
        await c.AssertSentToLoginAsync(cookies);
    }

    [Fact]
    public async Task PortalLoginIsThrottledLikeTheApiLogin()
    {
        var org = await app.CreateOrgAsync();
        using var c = app.NewClient(handleCookies: true);
        for (var i = 0; i < 10; i++)
        {
            var wrong = await c.PostFormAsync("/login", "/login", new() { ["username"] = org.Username, ["password"] = "wrong password" });
            Assert.Contains("Invalid username or password", await wrong.Content.ReadAsStringAsync());
        }
        var r = await c.PostFormAsync("/login", "/login", new() { ["username"] = org.Username, ["password"] = org.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
        Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Contains("Too many failed logins", await r.Content.ReadAsStringAsync());
        // The legacy login shares the count: the same username is refused there too.
        await (await app.LoginAsync(org.Username, org.Password, "AbCdEfGh1234")).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
    }

    [Fact]
    public async Task AReadOnlyAdminPostingAFormDirectlyIsRefusedByTheLifecycle()
    {
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        using var reader = await app.PortalLoginAsync(await app.AddAdminAsync(org.Id, "READ_ONLY"), Scenario.Password);
        var r = await reader.PostFormAsync(PortalSession.KeyPage, PortalSession.KeyPage + "?handler=Regenerate", new() { ["keyId"] = org.KeyId.ToString() });
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("You are not allowed to do this.", await r.Content.ReadAsStringAsync());
        r = await reader.PostFormAsync(Sessions, Sessions + "?handler=Switch", new() { ["endSessionsOnKeyChange"] = "true" });
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        r = await reader.PostFormAsync(Sessions, Sessions + "?handler=EndAll", new());
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal(key, await app.KeyValueAsync(org));
        Assert.False((await app.OrgViewAsync(org.Id)).GetProperty("endSessionsOnKeyChange").GetBoolean());
    }

    [Fact]
    public async Task AServiceProvidersStaffCannotLiftTheOperatorsDisable()
    {
        var sp = await app.CreateServiceProviderAsync();
        var org = await app.CreateOrgAsync(provider: app.Provider(sp.Token));
        await app.DisableKeyAsync(org);
        using var staff = await app.PortalLoginAsync(await app.CreateStaffAsync(sp.Token), Scenario.Password);
        var page = $"/console/organizations/{org.Id}";
        var r = await staff.PostFormAsync(page, $"{page}?handler=Enable", new() { ["keyId"] = org.KeyId.ToString() });
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("You are not allowed to do this.", await r.Content.ReadAsStringAsync());
        Assert.Equal("DISABLED", (await app.OrgViewAsync(org.Id)).GetProperty("keys")[0].GetProperty("status").GetString());

        // A limit the provider API would refuse is refused here too, with the same reason.
        r = await staff.PostFormAsync(page, $"{page}?handler=Limits", new() { ["Limits.WarnAtPercent"] = "150" });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("warnAtPercent must be 1 to 100.", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AuditLogPagesPageOnLikeTheProviderApi()
    {
        var org = await app.CreateOrgAsync();
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        var first = await c.GetStringAsync("/admin/audit?limit=2");
        Assert.Equal(2, Regex.Matches(first, "data-audit-action=").Count);
        var next = WebUtility.HtmlDecode(Regex.Match(first, "href=\"([^\"]+)\" rel=\"next\"").Groups[1].Value);
        Assert.StartsWith("/admin/audit?before=", next);
        var second = await c.GetStringAsync(next);
        Assert.Contains("First page", second);
        Assert.NotEqual(Regex.Match(first, "<tbody>[\\s\\S]*</tbody>").Value, Regex.Match(second, "<tbody>[\\s\\S]*</tbody>").Value);
        var bad = await c.GetAsync("/admin/audit?limit=1000");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("limit must be 1 to 100.", await bad.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("<tr data-audit-action=\"([^\"]*)\" data-audit-id=\"(\\d+)\" data-audit-outcome=\"([^\"]*)\">([\\s\\S]*?)</tr>")]
    private static partial Regex AuditRow();

    private static async Task<(string Action, long Id, string Outcome, string Html)[]> AuditRowsAsync(HttpClient c, string query)
    {
        var html = await c.GetStringAsync("/admin/audit" + query);
        return AuditRow().Matches(html).Select(m => (m.Groups[1].Value, long.Parse(m.Groups[2].Value), m.Groups[3].Value, m.Groups[4].Value)).ToArray();
    }

    [Fact]
    public async Task AuditLogListsNewestFirstAndFiltersByActionOutcomeWhoAndDay()
    {
        var org = await app.CreateOrgAsync();
        Assert.False((await app.LoginAsync(org.Username, "not the password", await app.KeyValueAsync(org))).IsSuccessStatusCode);
        using var c = await app.PortalLoginAsync(org.Username, org.Password);
        Assert.Equal(HttpStatusCode.Redirect, (await c.PostFormAsync(PortalSession.KeyPage, PortalSession.KeyPage + "?handler=Regenerate",
            new() { ["keyId"] = org.KeyId.ToString() })).StatusCode);

        var all = await AuditRowsAsync(c, "");
        Assert.True(all.Length >= 4, $"{all.Length} events");
        Assert.Equal(all.Select(r => r.Id).OrderDescending(), all.Select(r => r.Id));
        Assert.Equal("key.regenerate", all[0].Action);

        var keys = await AuditRowsAsync(c, "?action=key.");
        Assert.NotEmpty(keys);
        Assert.All(keys, r => Assert.StartsWith("key.", r.Action));
        var refused = await AuditRowsAsync(c, "?outcome=REFUSED");
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.NotEqual("SUCCESS", r.Outcome));
        var succeeded = await AuditRowsAsync(c, "?outcome=SUCCESS");
        Assert.Equal(all.Length, refused.Length + succeeded.Length);
        Assert.All(succeeded, r => Assert.Equal("SUCCESS", r.Outcome));
        var mine = await AuditRowsAsync(c, "?who=" + Uri.EscapeDataString(org.Username.ToUpperInvariant()));
        Assert.NotEmpty(mine);
        Assert.True(mine.Length < all.Length, "the operator's events are left out");
        Assert.All(mine, r => Assert.Contains(org.Username, r.Html));

        var today = DateTimeOffset.FromUnixTimeMilliseconds(app.NowMs).UtcDateTime.ToString("yyyy-MM-dd");
        var yesterday = DateTimeOffset.FromUnixTimeMilliseconds(app.NowMs - 86_400_000).UtcDateTime.ToString("yyyy-MM-dd");
        Assert.Equal(all.Length, (await AuditRowsAsync(c, $"?from={today}&to={today}")).Length);
        Assert.Contains("No events match the filter.", await c.GetStringAsync($"/admin/audit?to={yesterday}"));

        // Paging keeps the filter, and a bad day is refused beside the form, which keeps what was typed.
        var first = await c.GetStringAsync("/admin/audit?outcome=SUCCESS&limit=1");
        var next = WebUtility.HtmlDecode(Regex.Match(first, "href=\"([^\"]+)\" rel=\"next\"").Groups[1].Value);
        Assert.Matches("^/admin/audit\\?outcome=SUCCESS&before=\\d+&limit=1$", next);
        var bad = await c.GetAsync("/admin/audit?from=2026-13-01");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var badHtml = await bad.Content.ReadAsStringAsync();
        Assert.Contains("Enter the first day as a date", badHtml);
        Assert.Contains("value=\"2026-13-01\"", badHtml);
    }
}
