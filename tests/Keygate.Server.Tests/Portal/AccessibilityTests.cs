using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Keygate.Tests;

/// <summary>
/// Every portal and console page checked by axe-core (WCAG 2.1 A/AA) at 1280 and 375 px, the focus ring's
/// contrast, where confirmations put the focus, and the audit log's layout. Screenshots of the states go to
/// the test output's screenshots/ (the ones in docs/ are copies of these).
/// </summary>
public sealed partial class AccessibilityTests(BrowserHost host) : IClassFixture<BrowserHost>
{
    private KeygateApp App => host.App;

    /// <summary>
    /// An org with a live API session and a refused login, so every table has rows; its admin has a login name
    /// of a usual length (the harness's unique names are 50 characters, longer than a phone's line).
    /// </summary>
    private async Task<TestOrg> BusyOrgAsync()
    {
        var org = await App.CreateOrgAsync(username: $"admin@{Guid.NewGuid().ToString("N")[..8]}.example");
        await App.LoginAsync(org.Username, "not the password", await App.KeyValueAsync(org));
        using var session = await App.SessionAsync(org);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        return org;
    }

    private async Task CheckAsync(IPage page, string path, string state, int width)
    {
        var response = await page.GotoAsync(path);
        Assert.True(response!.Ok, $"{path} answered {response.Status}");
        await Expect(page.Locator("h1")).ToBeVisibleAsync();
        await Axe.AssertCleanAsync(page, state);
        if (width < 600) await PortalBrowserTests.AssertFitsAsync(page);
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(375)]
    public async Task EveryPortalPagePassesAxeAtThisWidth(int width)
    {
        var org = await BusyOrgAsync();
        var page = await host.NewPageAsync(width: width, height: width < 600 ? 740 : 900);
        await CheckAsync(page, "/login", "login", width);
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        var key = PortalSession.KeyPage;
        await CheckAsync(page, key, "key page", width);
        await CheckAsync(page, $"{key}?confirm=edit&confirmKey={org.KeyId}", "edit dialog", width);
        await CheckAsync(page, $"{key}?confirm=regenerate&confirmKey={org.KeyId}", "regenerate dialog", width);
        await CheckAsync(page, $"{key}?confirm=delete&confirmKey={org.KeyId}", "delete dialog", width);
        await CheckAsync(page, "/admin/usage", "usage", width);
        await CheckAsync(page, "/admin/sessions", "sessions", width);
        await CheckAsync(page, "/admin/audit", "audit log", width);
        await BrowserHost.ScreenshotAsync(page, $"audit-log-{width}px");
        await CheckAsync(page, "/admin/audit?outcome=REFUSED&who=nobody", "audit log, nothing found", width);
        var self = await App.AdminIdAsync(org.Id, org.Username);
        var other = await App.AdminIdAsync(org.Id, await App.AddAdminAsync(org.Id, "READ_ONLY"));
        await CheckAsync(page, "/admin/administrators", "administrators", width);
        await CheckAsync(page, $"/admin/administrators?confirm=edit&admin={self}", "administrator edit form", width);
        await CheckAsync(page, $"/admin/administrators?confirm=disable&admin={other}", "administrator disable dialog", width);
        await CheckAsync(page, $"/admin/administrators?confirm=delete&admin={other}", "administrator delete dialog", width);
        await CheckAsync(page, "/admin/roles", "roles", width);
        await CheckAsync(page, "/admin/password", "password", width);
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(375)]
    public async Task EveryConsolePagePassesAxeAtThisWidth(int width)
    {
        var org = await BusyOrgAsync();
        var staff = await App.CreateStaffAsync();
        var page = await host.NewPageAsync(width: width, height: width < 600 ? 740 : 900);
        await BrowserHost.LogInAsync(page, staff, Scenario.Password);
        var here = $"/console/organizations/{org.Id}";
        await CheckAsync(page, "/console", "organizations", width);
        await CheckAsync(page, here, "organization", width);
        await BrowserHost.ScreenshotAsync(page, $"console-organization-{width}px");
        await CheckAsync(page, $"{here}?confirm=disable&confirmKey={org.KeyId}", "disable dialog", width);
        await page.GotoAsync(here);
        await page.GetByLabel("API subscription enabled").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save subscription" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Turn the API subscription off?" })).ToBeVisibleAsync();
        await Axe.AssertCleanAsync(page, "subscription confirmation");
        await CheckAsync(page, $"{here}/audit", "audit log", width);
        await CheckAsync(page, $"{here}?confirm=reset&confirmAdmin={await AdminIdAsync(org)}", "admin reset dialog", width);
        await CheckAsync(page, $"{here}?confirm=suspend", "suspend dialog", width);
        var (tokenId, _) = await App.CreateTokenAsync(name: "axe");
        await CheckAsync(page, ConsoleForms.Tokens, "tokens", width);
        await CheckAsync(page, $"{ConsoleForms.Tokens}?confirm=rotate&confirmToken={tokenId}", "rotate dialog", width);
        await CheckAsync(page, $"{ConsoleForms.Tokens}?confirm=revoke&confirmToken={tokenId}", "revoke dialog", width);
        await CheckAsync(page, ConsoleForms.Staff, "staff", width);
        await CheckAsync(page, $"{ConsoleForms.Staff}?confirm=password&confirmStaff={await StaffIdAsync(staff)}", "staff password dialog", width);
        await (await App.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Scenario.Json(new { note = "axe" }))).AssertOk();
        await CheckAsync(page, here, "suspended organization", width);
        await CheckAsync(page, $"{here}?confirm=delete", "delete organization dialog", width);
        await page.Context.CloseAsync();
    }

    private async Task<long> AdminIdAsync(TestOrg org) =>
        (await (await App.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/admins")).AssertOk())[0].GetProperty("id").GetInt64();

    private async Task<long> StaffIdAsync(string username) =>
        (await (await App.Provider().GetAsync("/provider/v1/staff")).AssertOk()).EnumerateArray()
            .Single(s => s.GetProperty("username").GetString() == username).GetProperty("id").GetInt64();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DestructiveDialogsOpenOnCancelAndHandTheFocusBackToTheOpener(bool javaScript)
    {
        var org = await App.CreateOrgAsync();
        var page = await host.NewPageAsync(javaScript);
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        var before = await App.KeyValueAsync(org);
        foreach (var action in new[] { "Regenerate", "Delete" })
        {
            var opener = page.GetByRole(AriaRole.Link, new() { Name = action + " Cloud Service API Key", Exact = true });
            // Opened by keyboard, Enter right away lands on Cancel: nothing changes, and the opener has the focus again.
            await opener.FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            var cancel = page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link, new() { Name = "Cancel" });
            await Expect(cancel).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
            await Expect(opener).ToBeFocusedAsync();
            if (javaScript)
            {
                // Escape closes the modal dialog the same way.
                await page.Keyboard.PressAsync("Enter");
                await Expect(cancel).ToBeFocusedAsync();
                await page.Keyboard.PressAsync("Escape");
                await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
                await Expect(opener).ToBeFocusedAsync();
            }
        }
        Assert.Equal(before, await App.KeyValueAsync(org));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheFocusRingAndControlBordersContrastWithTheCard()
    {
        var org = await App.CreateOrgAsync();
        var page = await host.NewPageAsync();
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        // Reach a control inside a card by keyboard, so the ring is the one :focus-visible draws.
        var edit = page.GetByRole(AriaRole.Link, new() { Name = "Edit Cloud Service API Key", Exact = true });
        for (var i = 0; i < 40 && !await edit.EvaluateAsync<bool>("e => e === document.activeElement"); i++)
            await page.Keyboard.PressAsync("Tab");
        await Expect(edit).ToBeFocusedAsync();
        var colours = await edit.EvaluateAsync<string[]>("""
            e => {
                const s = getComputedStyle(e);
                return [s.outlineStyle, s.outlineWidth, s.outlineColor, getComputedStyle(e.closest('.card')).backgroundColor, s.borderTopColor];
            }
            """);
        Assert.Equal("solid", colours[0]);
        Assert.True(float.Parse(colours[1].TrimEnd('p', 'x'), CultureInfo.InvariantCulture) >= 2, $"outline {colours[1]}");
        var card = Rgb(colours[3]);
        AssertContrast("focus ring", Rgb(colours[2]), card, 3);
        AssertContrast("button border", Rgb(colours[4]), card, 3);

        await page.GotoAsync("/admin/audit");
        var input = await page.GetByLabel("Who contains").EvaluateAsync<string>("e => getComputedStyle(e).borderTopColor");
        AssertContrast("input border", Rgb(input), card, 3);
        await page.Context.CloseAsync();
    }

    [GeneratedRegex(@"rgba?\((\d+), (\d+), (\d+)")]
    private static partial Regex RgbPattern();

    private static (double R, double G, double B) Rgb(string css)
    {
        var m = RgbPattern().Match(css);
        Assert.True(m.Success, $"not an rgb() colour: {css}");
        return (double.Parse(m.Groups[1].Value), double.Parse(m.Groups[2].Value), double.Parse(m.Groups[3].Value));
    }

    /// <summary>WCAG 2.1 contrast ratio of two sRGB colours.</summary>
    private static void AssertContrast(string what, (double R, double G, double B) a, (double R, double G, double B) b, double least)
    {
        static double Channel(double c) => (c /= 255) <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        static double Luminance((double R, double G, double B) c) => 0.2126 * Channel(c.R) + 0.7152 * Channel(c.G) + 0.0722 * Channel(c.B);
        var (la, lb) = (Luminance(a), Luminance(b));
        var ratio = (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
        Assert.True(ratio >= least, $"{what}: contrast {ratio:0.00}:1 against the card, less than {least}:1");
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(375)]
    public async Task TheAuditLogSplitsNoWordAndStacksUnder600Px(int width)
    {
        var org = await BusyOrgAsync();
        var page = await host.NewPageAsync(width: width, height: 900);
        await BrowserHost.LogInAsync(page, org.Username, org.Password);
        await page.GotoAsync("/admin/audit");
        await Expect(page.Locator("tr[data-audit-action]").First).ToBeVisibleAsync();

        // The scroll region is reachable by keyboard and named.
        var region = page.GetByRole(AriaRole.Region, new() { Name = "Audit events, newest first" });
        await Expect(region).ToHaveAttributeAsync("tabindex", "0");

        // Every identifier (who, action, address, outcome) sits on one line: its characters share one line box.
        var split = await page.EvaluateAsync<string[]>("""
            () => {
                const split = [];
                for (const cell of document.querySelectorAll('table.audit .token')) {
                    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                    for (let node; (node = walker.nextNode());) {
                        for (const m of node.data.matchAll(/\S+/g)) {
                            const range = document.createRange();
                            range.setStart(node, m.index);
                            range.setEnd(node, m.index + m[0].length);
                            const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                            if (tops.size > 1) split.push(m[0]);
                        }
                    }
                }
                return split;
            }
            """);
        Assert.True(split.Length == 0, $"words split across lines at {width} px: {string.Join(", ", split)}");

        var display = await page.Locator("table.audit td").First.EvaluateAsync<string>("e => getComputedStyle(e).display");
        if (width < 600)
        {
            Assert.NotEqual("table-cell", display);
            await PortalBrowserTests.AssertFitsAsync(page);
        }
        else
        {
            Assert.Equal("table-cell", display);
        }
        await page.Context.CloseAsync();
    }
}
