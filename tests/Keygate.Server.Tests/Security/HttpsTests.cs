using System.Net;

namespace Keygate.Tests;

/// <summary>
/// What HTTPS changes (issue 13, item 6): cookies are Secure when the request came over HTTPS, directly or through a
/// listed proxy, and always with Keygate:SecureCookies=Always; HSTS on every answer served over HTTPS, never over HTTP.
/// </summary>
public sealed class HttpsTests
{
    private static readonly Dictionary<string, string?> BehindLocalProxy = new() { ["Keygate:KnownProxies:0"] = "127.0.0.1", ["Keygate:KnownProxies:1"] = "::1" };

    private static bool IsSecure(string setCookie) =>
        setCookie.Split(';').Skip(1).Any(a => a.Trim().Equals("Secure", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The three cookies Keygate sets: the portal's antiforgery and sign-in cookies, then the legacy session. Cookies
    /// go back by hand: a cookie jar would keep a Secure cookie from a plain-HTTP server, as a browser does.
    /// </summary>
    private static async Task<Dictionary<string, string>> CookiesAsync(KeygateApp app, string? forwardedProto = null)
    {
        var org = await app.CreateOrgAsync();
        using var c = app.Client();
        if (forwardedProto is not null) c.DefaultRequestHeaders.Add("X-Forwarded-Proto", forwardedProto);
        var cookies = new Dictionary<string, string>();
        void Take(HttpResponseMessage r)
        {
            foreach (var v in r.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
                cookies[v[..v.IndexOf('=')]] = v;
        }
        var page = await c.GetAsync("/login");
        Take(page);
        var form = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["username"] = org.Username, ["password"] = org.Password,
                ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(await page.Content.ReadAsStringAsync()),
            }),
        };
        form.Headers.Add("Cookie", PortalSession.CookiesOf(page));
        var signedIn = await c.SendAsync(form);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Take(signedIn);
        var keyPage = await c.SendAsync(PortalSession.WithCookies(HttpMethod.Get, PortalSession.KeyPage, PortalSession.CookiesOf(signedIn)));
        var key = Scenario.KeyValueOnPage(await keyPage.Content.ReadAsStringAsync());
        Assert.NotNull(key);
        var login = await app.LoginAsync(org.Username, org.Password, key, client: c);
        await login.AssertOk();
        Take(login);
        Assert.Equal(["JSESSIONID", "keygate_af", "keygate_portal"], cookies.Keys.Order());
        return cookies;
    }

    [Fact]
    public async Task OverPlainHttpNoCookieIsSecureByDefaultAndEveryCookieIsWithSecureCookiesAlways()
    {
        await using (var plain = new KeygateApp())
            Assert.All((await CookiesAsync(plain)).Values, v => Assert.False(IsSecure(v), v));
        await using var always = KeygateApp.With(new() { ["Keygate:SecureCookies"] = "Always" });
        Assert.All((await CookiesAsync(always)).Values, v => Assert.True(IsSecure(v), v));
    }

    [Fact]
    public async Task BehindAListedProxyThatEndsTlsEveryCookieIsSecureAndNobodyElseCanClaimHttps()
    {
        await using (var proxied = KeygateApp.With(BehindLocalProxy))
        {
            proxied.StartKestrel();
            Assert.All((await CookiesAsync(proxied, "https")).Values, v => Assert.True(IsSecure(v), v));
        }
        await using var direct = new KeygateApp();
        direct.StartKestrel();
        Assert.All((await CookiesAsync(direct, "https")).Values, v => Assert.False(IsSecure(v), v));
    }

    [Fact]
    public async Task HstsIsSentOnEveryAnswerServedOverHttpsAndNeverOverHttp()
    {
        async Task<string[]> HstsAsync(KeygateApp app, string? forwardedProto)
        {
            using var c = app.Client();
            if (forwardedProto is not null) c.DefaultRequestHeaders.Add("X-Forwarded-Proto", forwardedProto);
            // A page, an API answer, a legacy refusal and an unknown path.
            var answers = new[] { await c.GetAsync("/healthz"), await c.GetAsync("/login"), await c.GetAsync("/api/v1/apiKeys"), await c.GetAsync("/nothing-here") };
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.NotFound], answers.Select(r => r.StatusCode));
            return [.. answers.Select(r => r.Headers.TryGetValues("Strict-Transport-Security", out var v) ? string.Join(",", v) : "")];
        }

        await using (var proxied = KeygateApp.With(BehindLocalProxy))
        {
            proxied.StartKestrel();
            Assert.All(await HstsAsync(proxied, "https"), h => Assert.Equal("max-age=31536000", h));
            Assert.All(await HstsAsync(proxied, "http"), Assert.Empty);
            Assert.All(await HstsAsync(proxied, null), Assert.Empty);
        }
        await using var direct = new KeygateApp();
        direct.StartKestrel();
        Assert.All(await HstsAsync(direct, "https"), Assert.Empty); // not from a listed proxy: the client's word
    }
}
