using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Keygate.Tests;

/// <summary>Administration › Administrator Management in Chromium: JavaScript on and off, 375 px, keyboard only; screenshots checked by axe.</summary>
public sealed class AdminManagementBrowserTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private KeygateApp App => host.App;

    private static ILocator Row(IPage page, string login) => page.Locator($"tr[data-admin='{login}']");

    private static async Task AddAdminAsync(IPage page, string login, string role)
    {
        await page.GetByLabel("Login name", new() { Exact = true }).FillAsync(login);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Grace Hopper");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync("grace@example.test");
        await page.Locator("#add-role").SelectOptionAsync(new SelectOptionValue { Label = role });
        await page.GetByLabel("Initial password").FillAsync(Scenario.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add administrator" }).ClickAsync();
    }

    [Fact]
    public async Task WithJavaScriptAnAdminIsAddedAndDeletedThroughTheDialogAndARoleThroughTheMatrix()
    {
        var org = await App.CreateOrgAsync(username: $"admin@{Guid.NewGuid().ToString("N")[..8]}.example");
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, org.Username, org.Password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Roles", Exact = true }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Key keeper");
        await page.GetByLabel("API keys: Read and write").CheckAsync();
        await page.GetByLabel("Dashboard: Read only").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add role" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The role was added");
        await Expect(page.Locator("th[data-role='Key keeper']")).ToBeVisibleAsync();
        await BrowserHost.ScreenshotAsync(page, "roles");

        await page.GetByRole(AriaRole.Link, new() { Name = "Administrators", Exact = true }).ClickAsync();
        var login = $"grace@{Guid.NewGuid().ToString("N")[..8]}.example";
        await AddAdminAsync(page, login, "Key keeper");
        await Expect(page.Locator(".notice")).ToContainTextAsync("The administrator was added");
        await Expect(Row(page, login)).ToContainTextAsync("Key keeper");
        await BrowserHost.ScreenshotAsync(page, "administrators");

        // A refusal is shown beside its field, with the API's code.
        await AddAdminAsync(page, login, "Read Only Admin");
        await Expect(page.Locator("#add-loginName-error")).ToHaveAttributeAsync("data-error-code", "USERNAME_TAKEN");
        await Expect(page.GetByLabel("Login name", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await BrowserHost.ScreenshotAsync(page, "administrators-add-error");

        // Delete opens a modal dialog on Cancel; Escape closes it and changes nothing; confirming deletes.
        var delete = page.GetByRole(AriaRole.Link, new() { Name = $"Delete {login}" });
        await delete.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = $"Delete {login}?" });
        await Expect(dialog.GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await BrowserHost.ScreenshotAsync(page, "administrators-delete-dialog");
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await Expect(delete).ToBeFocusedAsync();
        await delete.ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete administrator" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The administrator was deleted");
        await Expect(Row(page, login)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WithoutJavaScriptDisableEnableEditAndRoleDeleteWorkThroughConfirmationPages()
    {
        var org = await App.CreateOrgAsync();
        var reader = await App.AddAdminAsync(org.Id, "READ_ONLY");
        var page = await host.NewPageAsync(javaScript: false);
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        await page.GotoAsync(AdminPortalKit.Admins);

        await page.GetByRole(AriaRole.Link, new() { Name = $"Disable {reader}" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = $"Disable {reader}" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable administrator" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The administrator was disabled");
        await Expect(Row(page, reader).Locator(".status")).ToContainTextAsync("Disabled");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Enable {reader}" }).ClickAsync();
        await Expect(Row(page, reader).Locator(".status")).ToContainTextAsync("Enabled");

        await page.GetByRole(AriaRole.Link, new() { Name = $"Edit {reader}" }).ClickAsync();
        await Expect(page.Locator("#edit-userName")).ToBeFocusedAsync();
        await page.Locator("#edit-userName").FillAsync("Rita Reader");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(Row(page, reader)).ToContainTextAsync("Rita Reader");

        await page.GotoAsync(AdminPortalKit.Roles);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Short lived");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add role" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete role Short lived" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete role" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("The role was deleted");
        await Expect(page.Locator("th[data-role='Short lived']")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task At375PxThePagesFitAndAResetPasswordIsChangedByKeyboardBeforeAnythingElse()
    {
        var org = await App.CreateOrgAsync(username: $"admin@{Guid.NewGuid().ToString("N")[..8]}.example");
        var temporary = await App.ResetPasswordAsync(org.Id, org.Username);
        var page = await host.NewPageAsync(width: 375, height: 740);
        await page.GotoAsync("/login");
        await page.GetByLabel("Username").FillAsync(org.Username);
        await page.GetByLabel("Password").FillAsync(temporary);
        await page.Keyboard.PressAsync("Enter");

        // Straight to the password page, the current password's field in focus; Tab and type, Enter submits.
        await Expect(page).ToHaveURLAsync(new Uri(host.BaseUri, AdminPortalKit.PasswordPage).ToString());
        await Expect(page.Locator("#forced-banner")).ToContainTextAsync("reset your password");
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "password-forced-375px");
        await Expect(page.GetByLabel("Current password")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(temporary);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(AdminTestKit.NewPassword);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(AdminTestKit.NewPassword);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".notice")).ToContainTextAsync("Your password was changed");
        await PortalBrowserTests.AssertFitsAsync(page);

        // Keyboard only: Tab to the add form's first field, fill it field by field, Enter submits.
        await page.GotoAsync(AdminPortalKit.Admins);
        var first = page.GetByLabel("Login name", new() { Exact = true });
        for (var i = 0; i < 60 && !await first.EvaluateAsync<bool>("e => e === document.activeElement"); i++)
            await page.Keyboard.PressAsync("Tab");
        await Expect(first).ToBeFocusedAsync();
        var login = $"ada@{Guid.NewGuid().ToString("N")[..8]}.example";
        await page.Keyboard.TypeAsync(login);
        foreach (var text in new[] { "Ada Lovelace", "ada@example.test", Scenario.Password })
        {
            await page.Keyboard.PressAsync("Tab");
            await page.Keyboard.TypeAsync(text);
        }
        await Expect(page.GetByLabel("Initial password")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".notice")).ToContainTextAsync("The administrator was added");
        await Expect(Row(page, login)).ToBeVisibleAsync();
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "administrators-375px");

        await page.GetByRole(AriaRole.Link, new() { Name = $"Delete {login}" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "administrators-delete-375px");

        await page.GotoAsync(AdminPortalKit.Roles);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Roles");
        await PortalBrowserTests.AssertFitsAsync(page);
        await BrowserHost.ScreenshotAsync(page, "roles-375px");
        Assert.Equal(HttpStatusCode.OK, (HttpStatusCode)(await page.GotoAsync(AdminPortalKit.PasswordPage))!.Status);
        await PortalBrowserTests.AssertFitsAsync(page);
        await page.Context.CloseAsync();
    }
}
