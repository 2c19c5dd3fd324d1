using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Keygate.Tests;

/// <summary>The org admin's portal in a real browser (Debian Chromium, headless), with and without JavaScript.</summary>
public sealed class PortalBrowserTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private KeygateApp App => host.App;

    private static ILocator Card(IPage page, string type) => page.Locator($"section[data-key-type={type}]");

    private static async Task<string> ShownKeyAsync(IPage page, string type = "CLOUD_SERVICE") =>
        (await Card(page, type).Locator("[data-key-value]").GetAttributeAsync("data-key-value"))!;

    private static ILocator Action(IPage page, string name) =>
        page.GetByRole(AriaRole.Link, new() { Name = name + " Cloud Service API Key", Exact = true });

    private async Task LegacyLoginFailsAsync(TestOrg org, string key) =>
        await (await App.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");

    /// <summary>The org shown in docs/portal-key-page.png: a made-up company with readable names.</summary>
    private async Task<TestOrg> ExampleCorpAsync()
    {
        const string username = "admin@example-corp.test";
        var created = await (await App.Provider().PostAsync("/provider/v1/organizations", Scenario.Json(new
        {
            name = "Example Corp", admin = new { username, password = Scenario.Password },
        }))).AssertOk(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetInt64();
        await App.RaiseLimitsAsync(id);
        var org = await (await App.Provider().PutAsync($"/provider/v1/organizations/{id}/subscription",
            Scenario.Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
        return new TestOrg(id, username, Scenario.Password, org.GetProperty("keys")[0].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task AdminSeesTheKeyEditsRegeneratesDeletesAndAddsItBack()
    {
        var org = await ExampleCorpAsync();
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, org.Username, org.Password);

        await Expect(page).ToHaveURLAsync(new Uri(host.BaseUri, PortalSession.KeyPage).ToString());
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" }).GetByRole(AriaRole.Listitem))
            .ToHaveTextAsync(["Administration", "API Configuration", "Legacy API", "Cloud & Branch Connector API"]);
        await Expect(page.Locator("[data-base-url]")).ToHaveTextAsync("https://api.example.test/api/v1");
        await Expect(Card(page, "CLOUD_SERVICE").Locator(".status")).ToContainTextAsync("Enabled");
        await Expect(Card(page, "CLOUD_SERVICE")).ToContainTextAsync("by Cloud Operator");
        var original = await ShownKeyAsync(page);
        Assert.Equal(original, await App.KeyValueAsync(org));

        // A sandbox token is added from the page and stays masked until shown.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add Sandbox Submission API Key" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The key was added");
        var token = Card(page, "SANDBOX_SUBMISSION").Locator("code.key-value");
        await Expect(token).ToBeHiddenAsync();
        await Card(page, "SANDBOX_SUBMISSION").GetByText("Show token").ClickAsync();
        await Expect(token).ToBeVisibleAsync();
        await Expect(token).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[A-Za-z0-9]{32}$"));
        await Card(page, "SANDBOX_SUBMISSION").GetByText("Show token").ClickAsync();
        await Expect(token).ToBeHiddenAsync();

        // The copy button (portal.js) copies the value held in data-key-value.
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy Cloud Service API Key" }).ClickAsync();
        await Expect(Card(page, "CLOUD_SERVICE").Locator(".copy-status")).ToHaveTextAsync("Copied");
        Assert.Equal(original, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        // So does the base URL's, which the client calls with that key.
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy base URL" }).ClickAsync();
        Assert.Equal("https://api.example.test/api/v1", await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await page.GotoAsync(PortalSession.KeyPage);
        await BrowserHost.ScreenshotAsync(page, "key-page-enabled");

        // Edit: a bad value is refused beside the field and changes nothing.
        await Action(page, "Edit").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Edit Cloud Service API Key" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.GetByLabel("Current API Key")).ToHaveValueAsync(original);
        await Expect(dialog).ToContainTextAsync("This cannot be undone.");
        await dialog.GetByLabel("New API Key").FillAsync("short-1");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator("#new-key-error")).ToContainTextAsync("exactly 12 characters");
        await Expect(page.GetByLabel("New API Key")).ToHaveAttributeAsync("aria-invalid", "true");
        await BrowserHost.ScreenshotAsync(page, "key-page-edit-error");
        Assert.Equal(original, await App.KeyValueAsync(org));
        await page.GetByLabel("New API Key").FillAsync(original);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator("#new-key-error")).ToContainTextAsync("different from the current key");

        // Edit with a good value: the old one is refused by the legacy login at once.
        var edited = BrowserScenario.NewKeyValue();
        await page.GetByLabel("New API Key").FillAsync(edited);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The old key no longer works");
        Assert.Equal(edited, await ShownKeyAsync(page));
        await LegacyLoginFailsAsync(org, original);
        await (await App.LoginAsync(org.Username, org.Password, edited)).AssertOk();

        // Regenerate after confirming.
        await Action(page, "Regenerate").ClickAsync();
        dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("This cannot be undone.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Regenerate key" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("A new key was generated");
        var regenerated = await ShownKeyAsync(page);
        Assert.NotEqual(edited, regenerated);
        await LegacyLoginFailsAsync(org, edited);

        // Delete after confirming; Add is how the Cloud Service key comes back.
        await Action(page, "Delete").ClickAsync();
        dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("This cannot be undone.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete key" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The key was deleted");
        var add = page.GetByRole(AriaRole.Button, new() { Name = "Add Cloud Service API Key" });
        await Expect(add).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "key-page-no-key");
        await LegacyLoginFailsAsync(org, regenerated);
        await add.ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The key was added");
        var added = await ShownKeyAsync(page);
        await (await App.LoginAsync(org.Username, org.Password, added)).AssertOk();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EveryKeyActionWorksWithoutJavaScript()
    {
        var org = await App.CreateOrgAsync();
        var page = await host.NewPageAsync(javaScript: false);
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        var original = await ShownKeyAsync(page);
        // Without script there is nothing to copy with, so the button stays hidden.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy Cloud Service API Key" })).ToBeHiddenAsync();

        await Action(page, "Edit").ClickAsync();
        await page.GetByLabel("New API Key").FillAsync("not valid!!!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator("#new-key-error")).ToContainTextAsync("exactly 12 characters");
        var edited = BrowserScenario.NewKeyValue();
        await page.GetByLabel("New API Key").FillAsync(edited);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The old key no longer works");
        Assert.Equal(edited, await ShownKeyAsync(page));
        await LegacyLoginFailsAsync(org, original);

        // Cancel closes the confirmation and changes nothing.
        await Action(page, "Regenerate").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        Assert.Equal(edited, await ShownKeyAsync(page));

        await Action(page, "Regenerate").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Regenerate key" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("A new key was generated");
        Assert.NotEqual(edited, await ShownKeyAsync(page));

        await page.GetByRole(AriaRole.Button, new() { Name = "Add Sandbox Submission API Key" }).ClickAsync();
        var sandbox = Card(page, "SANDBOX_SUBMISSION");
        await Expect(sandbox.Locator("code.key-value")).ToBeHiddenAsync();
        await sandbox.GetByText("Show token").ClickAsync();
        await Expect(sandbox.Locator("code.key-value")).ToBeVisibleAsync();

        await Action(page, "Delete").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete key" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add Cloud Service API Key" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The key was added");
        await (await App.LoginAsync(org.Username, org.Password, await ShownKeyAsync(page))).AssertOk();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task At375PxWideThePortalFitsAndWorksByKeyboard()
    {
        var org = await App.CreateOrgAsync();
        var page = await host.NewPageAsync(width: 375, height: 740);
        await page.GotoAsync("/login");
        await page.GetByLabel("Username").FillAsync(org.Username);
        await page.GetByLabel("Password").FillAsync(org.Password);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Cloud & Branch Connector API" })).ToBeVisibleAsync();
        await Expect(page.Locator(".status").First).ToContainTextAsync("Enabled");
        await AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "key-page-375px");
        var before = await ShownKeyAsync(page);

        // Tab to Edit, open it with Enter; the new-key field has the focus, and Enter confirms.
        var edit = Action(page, "Edit");
        for (var i = 0; i < 40 && !await edit.EvaluateAsync<bool>("e => e === document.activeElement"); i++)
            await page.Keyboard.PressAsync("Tab");
        await Expect(edit).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await Expect(page.GetByLabel("New API Key")).ToBeFocusedAsync();
        await AssertFitsAsync(page);
        var edited = BrowserScenario.NewKeyValue();
        await page.Keyboard.TypeAsync(edited);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".notice")).ToContainTextAsync("The old key no longer works");
        Assert.Equal(edited, await ShownKeyAsync(page));
        await LegacyLoginFailsAsync(org, before);

        // Escape cancels a confirmation opened as a modal dialog, which opened on Cancel.
        await Action(page, "Delete").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await BrowserHost.ScreenshotAsync(page, "key-page-delete-375px");
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(Action(page, "Delete")).ToBeFocusedAsync();
        Assert.Equal(edited, await ShownKeyAsync(page));

        foreach (var path in new[] { "/admin/usage", "/admin/sessions", "/admin/audit" })
        {
            await page.GotoAsync(path);
            await Expect(page.Locator("h1")).ToBeVisibleAsync();
            await AssertFitsAsync(page);
            await BrowserHost.ScreenshotAsync(page, path.Replace("/admin/", "") + "-375px");
        }
        await page.Context.CloseAsync();
    }

    internal static async Task AssertFitsAsync(IPage page) =>
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            $"{page.Url} scrolls sideways at {page.ViewportSize?.Width} px");

    [Fact]
    public async Task ReadOnlyAdminSeesTheKeysButNoActions()
    {
        var org = await App.CreateOrgAsync();
        var reader = await App.AddAdminAsync(org.Id, "READ_ONLY");
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, reader, Scenario.Password);
        await Expect(page.Locator(".banner")).ToContainTextAsync("read-only access");
        await Expect(Card(page, "CLOUD_SERVICE").Locator("[data-key-value]")).ToHaveTextAsync(await App.KeyValueAsync(org));
        await AssertNoActionsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "key-page-read-only");
        await page.GotoAsync("/admin/sessions");
        await Expect(page.GetByRole(AriaRole.Button)).ToHaveCountAsync(1); // Log out only
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnExpiredSubscriptionLeavesThePageReadable()
    {
        var org = await App.CreateOrgAsync(expiresAt: App.NowMs / 1000 - 60);
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        await Expect(page.Locator(".banner")).ToContainTextAsync("subscription has expired");
        await Expect(Card(page, "CLOUD_SERVICE").Locator(".status")).ToContainTextAsync("Subscription expired");
        await Expect(Card(page, "CLOUD_SERVICE").Locator("[data-key-value]")).ToHaveTextAsync(await App.KeyValueAsync(org));
        await AssertNoActionsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "key-page-expired");
        await page.Context.CloseAsync();
    }

    /// <summary>No link or form that would change a key: only the logout form is left.</summary>
    private static async Task AssertNoActionsAsync(IPage page)
    {
        await Expect(page.Locator("main form")).ToHaveCountAsync(0);
        await Expect(page.Locator("main .actions")).ToHaveCountAsync(0);
        await Expect(page.GetByText("Add Cloud Service API Key")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task SessionsCanBeEndedAndUsageAndAuditAreShown()
    {
        var org = await App.CreateOrgAsync();
        using var session = await App.SessionAsync(org);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, org.Username, org.Password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Usage" }).ClickAsync();
        await Expect(page.Locator("[data-usage-calls]")).ToHaveTextAsync("1");
        await Expect(page.Locator("[data-usage-threshold]")).ToHaveTextAsync("1,000,000,000");

        await page.GetByRole(AriaRole.Link, new() { Name = "API sessions" }).ClickAsync();
        await Expect(page.Locator("tr[data-session]")).ToHaveCountAsync(1);
        await Expect(page.Locator("tr[data-session]")).ToContainTextAsync("127.0.0.1");
        await page.GetByLabel("End API sessions when the Cloud Service API key is edited or regenerated").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToHaveTextAsync("Saved.");
        await Expect(page.GetByLabel("End API sessions when the Cloud Service API key is edited or regenerated")).ToBeCheckedAsync();
        Assert.True((await App.OrgViewAsync(org.Id)).GetProperty("endSessionsOnKeyChange").GetBoolean());

        await page.GetByRole(AriaRole.Button, new() { Name = "End all sessions" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("Ended 1 session.");
        await Expect(page.Locator("tr[data-session]")).ToHaveCountAsync(0);
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Expect(page.Locator("tr[data-audit-action='sessions.end_all']")).ToContainTextAsync("count=1");
        await Expect(page.Locator("tr[data-audit-action='organization.update']")).ToContainTextAsync("endSessionsOnKeyChange=True");
        await page.Context.CloseAsync();
    }

    /// <summary>
    /// The usage chart in Chromium, on the usage page at 1280 px and in the console's org page, with a made-up
    /// org's day: the screenshots (checked by axe) are also written to docs/usage-chart.png and docs/console-usage-chart.png.
    /// </summary>
    [Fact]
    public async Task TheUsageChartDrawsADayOfCallsAgainstTheWarningAndThreshold()
    {
        const string username = "admin@example-analytics.test";
        var id = (await (await App.Provider().PostAsync("/provider/v1/organizations", Scenario.Json(new
        {
            name = "Example Analytics", admin = new { username, password = Scenario.Password },
        }))).AssertOk(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        await (await App.Provider().PutAsync($"/provider/v1/organizations/{id}/limits", Scenario.Json(Scenario.ThresholdOnly(1000)))).AssertOk();
        var org = await (await App.Provider().PutAsync($"/provider/v1/organizations/{id}/subscription",
            Scenario.Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
        var test = new TestOrg(id, username, Scenario.Password, org.GetProperty("keys")[0].GetProperty("id").GetInt64());

        // A working day from midnight UTC: a new session each hour (an idle one times out), some calls in each.
        App.Clock.Advance(TimeSpan.FromMilliseconds(86_400_000 - App.NowMs % 86_400_000 + 5 * 60_000));
        int[] day = [12, 8, 5, 4, 6, 15, 40, 75, 110, 95, 120, 85, 60];
        foreach (var calls in day)
        {
            using (var session = await App.SessionAsync(test))
                for (var i = 0; i < calls; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
            App.Clock.Advance(TimeSpan.FromHours(1));
        }

        var page = await host.NewPageAsync(width: 1280, height: 900);
        await BrowserHost.LogInAsync(page, username, Scenario.Password);
        await page.GotoAsync("/admin/usage");
        await Expect(page.Locator("g.chart-hour")).ToHaveCountAsync(day.Length + 1);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "API calls per hour, as a running total against the threshold" })).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "usage-chart");
        File.Copy(Path.Combine(BrowserHost.Screenshots, "usage-chart.png"), Path.Combine(NodeProcess.RepoRoot, "docs", "usage-chart.png"), overwrite: true);
        await page.Context.CloseAsync();

        var console = await host.NewPageAsync(width: 1280, height: 900);
        await BrowserHost.LogInAsync(console, await App.CreateStaffAsync(), Scenario.Password);
        await console.GotoAsync($"/console/organizations/{id}#usage");
        await Expect(console.Locator("#usage g.chart-hour")).ToHaveCountAsync(day.Length + 1);
        await Axe.AssertCleanAsync(console, "console usage chart");
        await console.Locator("#usage").ScreenshotAsync(new() { Path = Path.Combine(NodeProcess.RepoRoot, "docs", "console-usage-chart.png") });
        await console.Context.CloseAsync();
    }
}
