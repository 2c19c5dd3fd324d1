using System.Net;
using System.Text.RegularExpressions;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Steps of the Administrator Management page tests: forms posted as the pages post them, and what the pages show.</summary>
public static partial class AdminPortalKit
{
    public const string Admins = "/admin/administrators";
    public const string Roles = "/admin/roles";
    public const string PasswordPage = "/admin/password";

    /// <summary>Posts a handler's form with the antiforgery token of <paramref name="page"/> (the password page while a change is forced).</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient c, string page, string handler, Dictionary<string, string> fields,
        string? tokenFrom = null)
    {
        var form = new Dictionary<string, string>(fields)
        {
            ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(await c.GetStringAsync(tokenFrom ?? page)),
        };
        return await c.PostAsync(handler.Length == 0 ? page : $"{page}?handler={handler}", new FormUrlEncodedContent(form));
    }

    public static void AssertRedirect(this HttpResponseMessage r, string to)
    {
        Assert.True(r.StatusCode == HttpStatusCode.Redirect, $"{(int)r.StatusCode}: {r.Content.ReadAsStringAsync().Result}");
        Assert.Equal(to, r.Headers.Location!.OriginalString);
    }

    /// <summary>Asserts the page came back with <paramref name="status"/> and shows the refusal's code (as the API names it).</summary>
    public static async Task<string> AssertRefusedAsync(this HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var html = await r.Content.ReadAsStringAsync();
        Assert.Equal(status, r.StatusCode);
        Assert.Contains($"data-error-code=\"{code}\"", html);
        return html;
    }

    [GeneratedRegex("<option value=\"(\\d+)\"[^>]*>([^<]+)</option>")]
    private static partial Regex RoleOption();

    /// <summary>A role's id, as the add form's role list offers it.</summary>
    public static async Task<string> RoleOnPageAsync(this HttpClient c, string name) =>
        RoleOption().Matches(await c.GetStringAsync(Admins)).First(m => m.Groups[2].Value == name).Groups[1].Value;

    /// <summary>An admin's id, from the provider's list of the org's admins.</summary>
    public static async Task<long> AdminIdAsync(this KeygateApp app, long orgId, string username) =>
        (await (await app.Provider().GetAsync($"/provider/v1/organizations/{orgId}/admins")).AssertOk()).EnumerateArray()
            .Single(a => a.GetProperty("username").GetString() == username).GetProperty("id").GetInt64();

    public static Dictionary<string, string> NewAdmin(string login, string roleId, string password = Password) => new()
    {
        ["Form.LoginName"] = login, ["Form.UserName"] = "Grace Hopper", ["Form.Email"] = "grace@example.test",
        ["Form.RoleId"] = roleId, ["Form.Password"] = password,
    };

    /// <summary>A role form: its name and a level per feature given; the others are left out (NONE for a new role).</summary>
    public static Dictionary<string, string> RoleForm(string name, params (string Feature, string Level)[] levels) =>
        levels.ToDictionary(l => $"levels[{l.Feature}]", l => l.Level).Append(new("name", name)).ToDictionary();

    public static async Task<string> ResetPasswordAsync(this KeygateApp app, long orgId, string username) =>
        (await (await app.Provider().PostAsync($"/provider/v1/organizations/{orgId}/admins/{await app.AdminIdAsync(orgId, username)}/resetPassword", null))
            .AssertOk()).GetProperty("temporaryPassword").GetString()!;
}
