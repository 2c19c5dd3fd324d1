using System.Net;
using Microsoft.Playwright;

namespace Keygate.Tests;

/// <summary>
/// One Keygate host on a real loopback socket and one headless Debian Chromium, shared by the tests of a
/// class; each test opens its own browser context (cookies, JavaScript on or off, viewport). Every wait is
/// Playwright's own auto-wait, bounded at 15 s.
/// </summary>
public sealed class BrowserHost : IAsyncLifetime
{
    public const float TimeoutMs = 15_000;
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public KeygateApp App { get; } = new();
    public Uri BaseUri { get; private set; } = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        BaseUri = App.StartKestrel();
        Assertions.SetDefaultExpectTimeout(TimeoutMs);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Timeout = 60_000,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>A fresh browser context (its own cookies) and a page in it.</summary>
    public async Task<IPage> NewPageAsync(bool javaScript = true, int width = 1280, int height = 900)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUri.ToString(),
            JavaScriptEnabled = javaScript,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(TimeoutMs);
        context.SetDefaultNavigationTimeout(TimeoutMs);
        return await context.NewPageAsync();
    }

    public static async Task LogInAsync(IPage page, string username, string password)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Log out" })).ToBeVisibleAsync();
    }

    /// <summary>Checks the page with axe (WCAG 2.1 A/AA), so every state with a screenshot is checked, then saves the screenshot.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        await Axe.AssertCleanAsync(page, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>Keys and accounts for the browser journeys, made through the provider API.</summary>
public static class BrowserScenario
{
    public static string NewKeyValue() => System.Security.Cryptography.RandomNumberGenerator.GetString(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 12);

    public static async Task<string> CreateStaffAsync(this KeygateApp app, string? token = null)
    {
        var username = Scenario.Unique("staff");
        await (await app.Provider(token).PostAsync("/provider/v1/staff",
            Scenario.Json(new { username, password = Scenario.Password }))).AssertOk(HttpStatusCode.Created);
        return username;
    }

    /// <summary>A service provider and its API token.</summary>
    public static async Task<(long Id, string Name, string Token)> CreateServiceProviderAsync(this KeygateApp app)
    {
        var name = "Reseller " + Guid.NewGuid().ToString("N")[..6];
        var sp = await (await app.Provider().PostAsync("/provider/v1/serviceProviders", Scenario.Json(new { name }))).AssertOk(HttpStatusCode.Created);
        return (sp.GetProperty("id").GetInt64(), name, sp.GetProperty("token").GetString()!);
    }

    public static async Task<string> AddAdminAsync(this KeygateApp app, long orgId, string role)
    {
        var username = Scenario.Unique(role == "READ_ONLY" ? "reader" : "admin");
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{orgId}/admins",
            Scenario.Json(new { username, password = Scenario.Password, role }))).AssertOk(HttpStatusCode.Created);
        return username;
    }

    public static async Task DisableKeyAsync(this KeygateApp app, TestOrg org, string reason = "TERMS_VIOLATION") =>
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Scenario.Json(new { reason, note = "test" }))).AssertOk();

    public static async Task<System.Text.Json.JsonElement> OrgViewAsync(this KeygateApp app, long orgId) =>
        await (await app.Provider().GetAsync($"/provider/v1/organizations/{orgId}")).AssertOk();
}
