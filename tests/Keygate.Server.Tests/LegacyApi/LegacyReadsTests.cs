using System.Text.Json;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Keygate.Tests;

/// <summary>
/// Issue 18: GET /api/v1/apiKeys and GET /api/v1/auth are served by <see cref="LegacyReads"/>, not by the delegate the
/// framework generates, and the session id is read from a plain Cookie header without the cookie collection. Nothing a
/// client sees may change: the same session found for every Cookie header, the same bytes, the same checks in the same order.
/// </summary>
public sealed class LegacyReadsTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private static readonly Gen<string> CookieName = Gen.OneOf<string>("JSESSIONID", "jsessionid", "JSessionId", "JSESSIONID ", " JSESSIONID", "other", "JSESSIONIDX");
    private static readonly Gen<string> CookieValue = Gen.OneOf<string>(
        Gen.String[Gen.Char["0123456789abcdef"], 0, 40],
        Gen.String[Gen.Char["0123456789abcdefXYZ%\"=;, \t!#$&'()*+-./:<>?@[]^_`{|}~\\é"], 0, 40],
        Gen.OneOf<string>("%41%42", "\"quoted\"", "\"open", "a b", "", "abc%zz", "%"));
    private static readonly Gen<string> Separator = Gen.OneOf<string>("; ", ";", ",", " ; ", ";;", ", ");

    /// <summary>A Cookie header: one to three name=value pairs (or bare words), joined by the separators clients use and misuse.</summary>
    private static readonly Gen<string> CookieHeader =
        Gen.Select(Gen.Select(CookieName, CookieValue, Gen.Bool, (n, v, bare) => bare ? v : n + "=" + v).Array[1, 3], Separator, (pairs, sep) => string.Join(sep, pairs));

    [Fact]
    public void TheSessionIdOfAnyCookieHeaderIsTheOneTheFrameworksCookieParserReads()
    {
        CookieHeader.Sample(header =>
        {
            var request = new DefaultHttpContext().Request;
            request.Headers.Cookie = header;
            var reference = new DefaultHttpContext().Request;
            reference.Headers.Cookie = header;
            var expected = reference.Cookies.TryGetValue("JSESSIONID", out var c) && !string.IsNullOrEmpty(c) ? c : null;
            Assert.Equal(expected, SessionGate.SessionId(request));
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("/api/v1/apiKeys")]
    [InlineData("/api/v1/apiKeys?keyType=ALL")]
    [InlineData("/api/v1/apiKeys?keyType=cloud_service")]
    [InlineData("/api/v1/auth")]
    public async Task TheReadsAnswerTheBytesTheAppsJsonOptionsWriteWithTheirLength(string path)
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        using var r = await session.GetAsync(path);
        await r.AssertOk();
        Assert.Equal("application/json; charset=utf-8", r.Content.Headers.ContentType?.ToString());
        var body = await r.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, r.Content.Headers.ContentLength);
        Assert.True(r.Headers.Contains("X-RateLimit-Remaining"), "a metered read reports its rate window (contract A5)");

        // What a typed result with the app's own options would have written for the same value.
        var options = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var type = path.StartsWith("/api/v1/auth") ? typeof(LoginResponse) : typeof(LegacyKey[]);
        var value = JsonSerializer.Deserialize(body, type, options);
        Assert.Equal(JsonSerializer.Serialize(value, type, options), System.Text.Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData("/api/v1/apiKeys")]
    [InlineData("/api/v1/auth")]
    public async Task TheReadsKeepTheFiltersChecksInTheirOrder(string path)
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);

        // Another site first (403), whatever else is wrong with the request: no session and a form body.
        using (var cross = new HttpRequestMessage(HttpMethod.Get, path) { Content = new StringContent("a=1", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") })
        {
            cross.Headers.Add("Sec-Fetch-Site", "cross-site");
            using var anonymous = app.Client();
            await (await anonymous.SendAsync(cross)).AssertError((System.Net.HttpStatusCode)403, "ACCESS_DENIED");
        }
        // Then the body's type (415), before the session is looked at.
        using (var form = new HttpRequestMessage(HttpMethod.Get, path) { Content = new StringContent("a=1", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") })
        {
            using var anonymous = app.Client();
            await (await anonymous.SendAsync(form)).AssertError((System.Net.HttpStatusCode)415, "UNSUPPORTED_MEDIA_TYPE");
        }
        // Then the session (401), from the cookie in any spelling the parser accepts or from the JSessionID header.
        using (var none = app.Client()) await (await none.GetAsync(path)).AssertError((System.Net.HttpStatusCode)401, "SESSION_NOT_VALID");
        var id = Scenario.SessionIdOf(await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org)))!;
        foreach (var header in new[] { $"jsessionid={id}", $"theme=dark; JSESSIONID={id}", $"JSESSIONID=%{Convert.ToHexString("x"u8)}; JSESSIONID={id}" })
        {
            using var spelled = app.Client();
            spelled.DefaultRequestHeaders.Add("Cookie", header);
            await (await spelled.GetAsync(path)).AssertOk();
        }
        using (var viaHeader = app.Client())
        {
            viaHeader.DefaultRequestHeaders.Add("JSessionID", id);
            await (await viaHeader.GetAsync(path)).AssertOk();
        }
        // And a refused key after it (403).
        await app.DisableKeyAsync(org);
        await (await session.GetAsync(path)).AssertError((System.Net.HttpStatusCode)403, "API_KEY_DISABLED");
    }

    [Fact]
    public async Task AnApiV1RequestNoRouteTakesIsCheckedLikeAGatewayCallThen404()
    {
        // Contract A7: what Keygate does not answer itself is checked (session first) and then, with no gateway route, 404.
        // Both kinds: a path no route has, and a path whose routes take other methods (routing's 405 endpoint).
        string[] unrouted = ["/api/v1/nothing-here", "/api/v1", "/api/v1/apiKeys/1/nothing"];
        using var anonymous = app.Client();
        foreach (var path in unrouted)
            await (await anonymous.GetAsync(path)).AssertError(System.Net.HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await anonymous.PatchAsync("/api/v1/apiKeys", null)).AssertError(System.Net.HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");

        using var session = await app.SessionAsync(await app.CreateOrgAsync());
        foreach (var path in unrouted)
            await (await session.GetAsync(path)).AssertError(System.Net.HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await session.PatchAsync("/api/v1/apiKeys", null)).AssertError(System.Net.HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await session.DeleteAsync("/api/v1/usage")).AssertError(System.Net.HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // Outside /api/v1 a wrong method stays routing's 405.
        await (await app.Provider().DeleteAsync("/provider/v1/organizations")).AssertError(System.Net.HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
    }
}
