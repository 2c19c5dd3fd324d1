using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Keygate.Tests;

/// <summary>The provider console in a real browser: staff of the operator and of a service provider.</summary>
public sealed class ConsoleBrowserTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private KeygateApp App => host.App;

    private static ILocator KeyBlock(IPage page, string type = "CLOUD_SERVICE") => page.Locator($"[data-key-type={type}]");

    private static async Task OpenOrganizationAsync(IPage page, string name)
    {
        await page.GetByLabel("Name contains").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OperatorStaffDisableTheKeyAndTheOrgPageShowsItDisabledWithoutActions()
    {
        var org = await App.CreateOrgAsync();
        var name = (await App.OrgViewAsync(org.Id)).GetProperty("name").GetString()!;
        var key = await App.KeyValueAsync(org);
        var staff = await App.CreateStaffAsync();

        var console = await host.NewPageAsync();
        await BrowserHost.LogInAsync(console, staff, Scenario.Password);
        await Expect(console).ToHaveURLAsync(new Uri(host.BaseUri, "/console").ToString());
        await OpenOrganizationAsync(console, name);
        await Expect(KeyBlock(console).Locator(".status")).ToContainTextAsync("Enabled");
        await console.GetByRole(AriaRole.Link, new() { Name = "Disable Cloud Service API Key" }).ClickAsync();
        var dialog = console.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await dialog.GetByLabel("Reason").SelectOptionAsync("TERMS_VIOLATION");
        await dialog.GetByLabel("Note").FillAsync("Scraping other tenants");
        await BrowserHost.ScreenshotAsync(console, "console-organization-disable");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Disable key" }).ClickAsync();
        await Expect(console.Locator(".notice")).ToContainTextAsync("The key was disabled");
        await Expect(KeyBlock(console).Locator(".status")).ToContainTextAsync("Disabled (TERMS_VIOLATION) by the operator");
        await Expect(KeyBlock(console)).ToContainTextAsync("by Cloud Operator");
        await BrowserHost.ScreenshotAsync(console, "console-organization-disabled");
        await (await App.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        // The org admin can still log in and read the page, which offers nothing on the disabled key.
        var portal = await host.NewPageAsync();
        await BrowserHost.LogInAsync(portal, org.Username, org.Password);
        var card = portal.Locator("section[data-key-type=CLOUD_SERVICE]");
        await Expect(card.Locator(".status")).ToContainTextAsync("Disabled");
        await Expect(card.Locator(".status")).ToContainTextAsync("Contact your service provider");
        await Expect(portal.Locator(".banner")).ToContainTextAsync("is disabled because of a violation of the terms and conditions");
        await Expect(card.Locator("[data-key-value]")).ToHaveTextAsync(key);
        await Expect(card.Locator("a, form")).ToHaveCountAsync(0);
        await BrowserHost.ScreenshotAsync(portal, "key-page-disabled");

        // Enabled again from the console: the same key works, and the page offers its actions again.
        await console.GetByRole(AriaRole.Button, new() { Name = "Enable Cloud Service API Key" }).ClickAsync();
        await Expect(console.Locator(".notice")).ToContainTextAsync("The key was enabled");
        await (await App.LoginAsync(org.Username, org.Password, key)).AssertOk();
        await portal.ReloadAsync();
        await Expect(card.GetByRole(AriaRole.Link, new() { Name = "Edit Cloud Service API Key" })).ToBeVisibleAsync();
        await console.Context.CloseAsync();
        await portal.Context.CloseAsync();
    }

    [Fact]
    public async Task ServiceProviderStaffSeeOnlyTheirOwnOrganizations()
    {
        var mine = await App.CreateServiceProviderAsync();
        var theirs = await App.CreateServiceProviderAsync();
        var myOrg = await App.CreateOrgAsync(provider: App.Provider(mine.Token));
        var theirOrg = await App.CreateOrgAsync(provider: App.Provider(theirs.Token));
        var myName = (await App.OrgViewAsync(myOrg.Id)).GetProperty("name").GetString()!;
        var theirName = (await App.OrgViewAsync(theirOrg.Id)).GetProperty("name").GetString()!;
        var staff = await App.CreateStaffAsync(mine.Token);

        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, staff, Scenario.Password);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = myName })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = theirName })).ToHaveCountAsync(0);
        await Expect(page.Locator("tr[data-org-id]")).ToHaveCountAsync(1);

        foreach (var path in new[] { $"/console/organizations/{theirOrg.Id}", $"/console/organizations/{theirOrg.Id}/audit" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(404, response!.Status);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        }
        // Nor is the org admins' area open to staff.
        Assert.Equal(403, (await page.GotoAsync(PortalSession.KeyPage))!.Status);

        // Their own org: a disable is made in the service provider's name.
        await page.GotoAsync($"/console/organizations/{myOrg.Id}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Disable Cloud Service API Key" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Disable key" }).ClickAsync();
        await Expect(KeyBlock(page).Locator(".status")).ToContainTextAsync("Disabled (TERMS_VIOLATION) by the service provider");
        await Expect(KeyBlock(page)).ToContainTextAsync($"by {mine.Name}");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SubscriptionLimitsAndAuditWorkWithoutJavaScript()
    {
        var org = await App.CreateOrgAsync();
        var name = (await App.OrgViewAsync(org.Id)).GetProperty("name").GetString()!;
        var staff = await App.CreateStaffAsync();
        var page = await host.NewPageAsync(javaScript: false);
        await BrowserHost.LogInAsync(page, staff, Scenario.Password);
        await OpenOrganizationAsync(page, name);
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("Active, no expiry");

        await page.GetByLabel("Expires at (UTC)").FillAsync("2030-01-01T00:00");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" }).ClickAsync();
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("Active until 2030-01-01 00:00:00 UTC");
        Assert.Equal(1893456000, (await App.OrgViewAsync(org.Id)).GetProperty("subscription").GetProperty("expiresAt").GetInt64());

        await page.GetByRole(AriaRole.Button, new() { Name = "Renew for one year" }).ClickAsync();
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("Active until 2031-01-01 00:00:00 UTC");

        // An expiry in the past refuses the key: it is confirmed first, and Cancel changes nothing.
        await page.GetByLabel("Expires at (UTC)").FillAsync("2026-01-01T00:00");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Let the subscription expire now?" });
        await Expect(dialog).ToContainTextAsync("SUBSCRIPTION_EXPIRED");
        await dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" })).ToBeFocusedAsync();
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("Active until 2031-01-01 00:00:00 UTC");
        // Confirmed, the org admin's page turns read-only at once.
        await page.GetByLabel("Expires at (UTC)").FillAsync("2026-01-01T00:00");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save and refuse the keys" }).ClickAsync();
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("Expired 2026-01-01 00:00:00 UTC");
        await Expect(KeyBlock(page).Locator(".status")).ToContainTextAsync("Subscription expired");
        // Turning off a subscription whose keys are already refused needs no confirmation.
        await page.GetByLabel("API subscription enabled").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" }).ClickAsync();
        await Expect(page.Locator("[data-subscription]")).ToHaveTextAsync("None");
        Assert.False((await App.OrgViewAsync(org.Id)).GetProperty("subscription").GetProperty("enabled").GetBoolean());

        await page.GetByLabel("Calls per window").FillAsync("5000");
        await page.GetByLabel("Warn at (%)").FillAsync("90");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save limits" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The limits were saved");
        await Expect(page.GetByLabel("Calls per window")).ToHaveValueAsync("5000");
        await Expect(page.Locator("[data-usage-threshold]")).ToHaveTextAsync("5,000");
        var limits = (await App.OrgViewAsync(org.Id)).GetProperty("limits").GetProperty("callThreshold");
        Assert.Equal(5000, limits.GetProperty("calls").GetInt64());
        Assert.Equal(90, limits.GetProperty("warnAtPercent").GetInt32());

        await page.GetByRole(AriaRole.Link, new() { Name = "Open the audit log" }).ClickAsync();
        await Expect(page.Locator("tr[data-audit-action='limits.update']")).ToHaveCountAsync(2); // the test setup's and this one
        // Newest first.
        await Expect(page.Locator("tr[data-audit-action='subscription.update']").First).ToContainTextAsync("enabled=False");
        await page.Context.CloseAsync();
    }
}
