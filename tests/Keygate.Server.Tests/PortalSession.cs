using System.Net;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>Drives the server-rendered portal over HTTP: antiforgery token, cookie, form posts.</summary>
public static partial class PortalSession
{
    public const string KeyPage = "/admin/api-configuration/legacy-api/cloud-branch-connector-api";

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();

    public static string AntiforgeryToken(string html) => Antiforgery().Match(html).Groups[1].Value;

    /// <summary>A cookie-keeping client logged into the portal.</summary>
    public static async Task<HttpClient> PortalLoginAsync(this KeygateApp app, string username, string password)
    {
        var c = app.NewClient(handleCookies: true);
        await c.PortalLoginAsync(username, password);
        return c;
    }

    /// <summary>Logs a cookie-keeping client (one that follows no redirects) into the portal.</summary>
    public static async Task PortalLoginAsync(this HttpClient c, string username, string password)
    {
        var login = await c.GetStringAsync("/login");
        var r = await c.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = username, ["password"] = password, ["__RequestVerificationToken"] = AntiforgeryToken(login),
        }));
        Assert.True(r.StatusCode == HttpStatusCode.Redirect, $"portal login answered {(int)r.StatusCode}: {System.Text.RegularExpressions.Regex.Match(await r.Content.ReadAsStringAsync(), "class=\"error\"[^>]*>([^<]*)").Groups[1].Value}");
    }

    /// <summary>Posts a form the way the page would, with the antiforgery token taken from <paramref name="page"/> unless forged.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient c, string page, string action,
        Dictionary<string, string> fields, bool forged = false)
    {
        var form = new Dictionary<string, string>(fields);
        if (!forged) form["__RequestVerificationToken"] = AntiforgeryToken(await c.GetStringAsync(page));
        return await c.PostAsync(action, new FormUrlEncodedContent(form));
    }

    public static async Task<string> PortalPageAsync(this KeygateApp app, string username, string password)
    {
        using var c = await app.PortalLoginAsync(username, password);
        return await c.GetStringAsync(KeyPage);
    }
}
