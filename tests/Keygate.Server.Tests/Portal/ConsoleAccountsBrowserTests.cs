using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Keygate.Tests;

/// <summary>
/// The console's tokens, staff and org lifecycle pages in a real browser: the dialogs with JavaScript (modal, Cancel
/// focused, Escape), the confirmation pages without it, 375 px without horizontal scrolling, and the keyboard.
/// </summary>
public sealed class ConsoleAccountsBrowserTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private KeygateApp App => host.App;

    private async Task<IPage> ConsoleAsync(bool javaScript = true, int width = 1280, string? providerToken = null)
    {
        var page = await host.NewPageAsync(javaScript, width, width < 600 ? 740 : 900);
        await BrowserHost.LogInAsync(page, await App.CreateStaffAsync(providerToken), Scenario.Password);
        return page;
    }

    private static ILocator Row(IPage page, string attribute, long id) => page.Locator($"tr[{attribute}=\"{id}\"]");

    [Fact]
    public async Task TokensAreCreatedRotatedAndRevokedWithModalDialogsAndTheKeyboard()
    {
        var page = await ConsoleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Tokens" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Tokens" })).ToHaveAttributeAsync("aria-current", "page");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("billing sync");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secret = page.Locator("[data-secret]");
        var token = (await secret.GetAttributeAsync("data-copy-value"))!;
        Assert.StartsWith("kgp_", token);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy token" })).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "console-token-created");
        Assert.Equal(HttpStatusCode.OK, await App.ProviderStatusAsync(token));

        // Rotate: opened by keyboard, Cancel has the focus; Escape closes and hands the focus back.
        await page.GotoAsync(ConsoleForms.Tokens);
        var row = page.Locator("tr", new() { HasText = "billing sync" });
        var rotate = row.GetByRole(AriaRole.Link, new() { Name = "Rotate billing sync" });
        await rotate.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(rotate).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await dialog.GetByLabel("Old token works for").FillAsync("2");
        await dialog.GetByLabel("Unit").SelectOptionAsync("hours");
        await BrowserHost.ScreenshotAsync(page, "console-token-rotate");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Rotate token" }).ClickAsync();
        var fresh = (await page.Locator("[data-secret]").GetAttributeAsync("data-copy-value"))!;
        await page.GotoAsync(ConsoleForms.Tokens);
        await Expect(page.Locator("tr", new() { HasText = token[..8] }).Locator("[data-token-status]")).ToContainTextAsync("Rotating, old one valid until");
        await BrowserHost.ScreenshotAsync(page, "console-tokens");

        // Revoke the new one: Enter right after opening lands on Cancel and changes nothing; then confirmed.
        var revoke = page.Locator("tr", new() { HasText = fresh[..8] }).GetByRole(AriaRole.Link, new() { Name = "Revoke billing sync" });
        await revoke.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(revoke).ToBeFocusedAsync();
        Assert.Equal(HttpStatusCode.OK, await App.ProviderStatusAsync(fresh));
        await revoke.ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Revoke token" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The token was revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await App.ProviderStatusAsync(fresh));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WithoutJavaScriptTheConfirmationsArePagesAndCancelReturnsToTheOpener()
    {
        var (id, token) = await App.CreateTokenAsync(name: "no script");
        var page = await ConsoleAsync(javaScript: false);
        await page.GotoAsync(ConsoleForms.Tokens);
        var revoke = Row(page, "data-token-id", id).GetByRole(AriaRole.Link, new() { Name = "Revoke no script" });
        await revoke.ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("confirm=revoke"));
        var cancel = page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" });
        await Expect(cancel).ToBeFocusedAsync();
        // axe needs script, so this state is only photographed (the axe sweep checks the same dialog with script).
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserHost.Screenshots, "console-token-revoke-no-js.png"), FullPage = true });
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(revoke).ToBeFocusedAsync();
        Assert.Equal(HttpStatusCode.OK, await App.ProviderStatusAsync(token));
        await revoke.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke token" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The token was revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await App.ProviderStatusAsync(token));

        // The staff page's delete works the same way.
        var other = await App.CreateStaffAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Staff" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete " + other, Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete login" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The login was deleted");
        await Expect(page.GetByText(other)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task StaffAreManagedAt375PxWithoutHorizontalScrolling()
    {
        var page = await ConsoleAsync(width: 375);
        await page.GotoAsync(ConsoleForms.Staff);
        var username = "ops-" + Guid.NewGuid().ToString("N")[..6];
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Scenario.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add login" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The login was added");
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "console-staff-375px");

        await page.GetByRole(AriaRole.Button, new() { Name = "Disable " + username, Exact = true }).ClickAsync();
        await Expect(page.Locator("tr", new() { HasText = username }).Locator("[data-staff-status]")).ToHaveTextAsync("Disabled");
        await page.GetByRole(AriaRole.Link, new() { Name = "Set password of " + username }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByLabel("New password")).ToBeFocusedAsync();
        await PortalBrowserTests.AssertFitsAsync(page);
        await page.Keyboard.TypeAsync("short");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".error")).ToContainTextAsync("password must be 8 to 256 characters.");
        await PortalBrowserTests.AssertFitsAsync(page);

        await page.GotoAsync(ConsoleForms.Tokens);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("phone made");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(page.Locator("[data-secret]")).ToBeVisibleAsync();
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "console-tokens-375px");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnOrgsAdminIsResetThenTheOrgIsSuspendedAndDeletedByTypingItsName()
    {
        var org = await App.CreateOrgAsync();
        var name = (await App.OrgViewAsync(org.Id)).GetProperty("name").GetString()!;
        var key = await App.KeyValueAsync(org);
        var page = await ConsoleAsync();
        await page.GotoAsync($"/console/organizations/{org.Id}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Reset password of " + org.Username }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Reset password" }).ClickAsync();
        var temporary = (await page.Locator("[data-secret]").GetAttributeAsync("data-copy-value"))!;
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy temporary password" })).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "console-admin-reset");
        await (await App.LoginAsync(org.Username, temporary, key)).AssertError(HttpStatusCode.Forbidden, "PASSWORD_EXPIRED");

        await page.GetByRole(AriaRole.Link, new() { Name = "Suspend" }).ClickAsync();
        await dialog.GetByLabel("Note").FillAsync("unpaid invoices");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Suspend organization" }).ClickAsync();
        await Expect(page.Locator("#suspended-banner")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete organization" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await dialog.GetByLabel("Type the organization's name to confirm").FillAsync("not " + name);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete organization" }).ClickAsync();
        await Expect(page.Locator(".error")).ToContainTextAsync("Type the organization's name exactly");
        await BrowserHost.ScreenshotAsync(page, "console-org-delete");
        await dialog.GetByLabel("Type the organization's name to confirm").FillAsync(name);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete organization" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The organization was deleted");
        await Expect(page).ToHaveURLAsync(new Uri(host.BaseUri, "/console?done=deleted").ToString());
        await (await App.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await page.Context.CloseAsync();
    }
}
