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

    /// <summary>The cookies of a portal login kept by hand, so that the login's cookie can be replayed after a logout.</summary>
    public sealed record HandCookies(string Antiforgery, string Portal)
    {
        public string Both => $"{Antiforgery}; {Portal}";
    }

    public static string CookiesOf(HttpResponseMessage r) => string.Join("; ", r.Headers.GetValues("Set-Cookie").Select(v => v.Split(';')[0]));

    public static HttpRequestMessage WithCookies(HttpMethod method, string path, string cookies)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", cookies);
        return request;
    }

    /// <summary>Logs in to the portal through a client that keeps no cookies (<c>app.Client()</c>).</summary>
    public static async Task<HandCookies> PortalLoginByHandAsync(this HttpClient c, string username, string password)
    {
        var loginPage = await c.GetAsync("/login");
        var antiforgery = CookiesOf(loginPage);
        var login = WithCookies(HttpMethod.Post, "/login", antiforgery);
        login.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = username, ["password"] = password,
            ["__RequestVerificationToken"] = AntiforgeryToken(await loginPage.Content.ReadAsStringAsync()),
        });
        var portal = CookiesOf(await c.SendAsync(login));
        Assert.StartsWith("keygate_portal=", portal);
        return new HandCookies(antiforgery, portal);
    }

    /// <summary>Logs out as the key page's logout button does.</summary>
    public static async Task PortalLogoutByHandAsync(this HttpClient c, HandCookies cookies)
    {
        var keyPage = await c.SendAsync(WithCookies(HttpMethod.Get, KeyPage, cookies.Both));
        Assert.Equal(HttpStatusCode.OK, keyPage.StatusCode);
        var logout = WithCookies(HttpMethod.Post, "/logout", cookies.Both);
        logout.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken(await keyPage.Content.ReadAsStringAsync()),
        });
        Assert.Equal(HttpStatusCode.Redirect, (await c.SendAsync(logout)).StatusCode);
    }

    /// <summary>Asserts that a request with only the portal cookie is sent to the login page.</summary>
    public static async Task AssertSentToLoginAsync(this HttpClient c, HandCookies cookies)
    {
        var replay = await c.SendAsync(WithCookies(HttpMethod.Get, KeyPage, cookies.Portal));
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.StartsWith("/login", replay.Headers.Location!.PathAndQuery);
    }

    public static async Task<string> PortalPageAsync(this KeygateApp app, string username, string password)
    {
        using var c = await app.PortalLoginAsync(username, password);
        return await c.GetStringAsync(KeyPage);
    }
}
