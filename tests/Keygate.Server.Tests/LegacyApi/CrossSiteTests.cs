using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>One org with a live session, shared by the cases of <see cref="CrossSiteTests"/> (they run one after another).</summary>
public sealed class CrossSiteFixture : IAsyncLifetime
{
    public KeygateApp App { get; } = new();
    public TestOrg Org { get; private set; } = null!;
    public string SessionId { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Org = await App.CreateOrgAsync();
        await App.RaiseLimitsAsync(Org.Id);
        var login = await App.LoginAsync(Org.Username, Org.Password, await App.KeyValueAsync(Org));
        await login.AssertOk();
        SessionId = SessionIdOf(login)!;
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// Contract A2 v3, cross-site protection: a request a browser marks as coming from another site or a sibling
/// subdomain (Sec-Fetch-Site), or naming an Origin that is not the server's own, is 403 ACCESS_DENIED; a write whose
/// Content-Type is not application/json is 415 even with an empty body; SDK requests (JSON, or no body and no content
/// type) pass. The finding: a form POST from a sibling subdomain regenerated the key.
/// </summary>
public sealed class CrossSiteTests(CrossSiteFixture fixture) : IClassFixture<CrossSiteFixture>
{
    private readonly KeygateApp app = fixture.App;
    private TestOrg Org => fixture.Org;

    /// <summary>The in-memory server's own origin: the scheme and host the requests are addressed to.</summary>
    private string OwnOrigin => app.BaseAddress.GetLeftPart(UriPartial.Authority);

    public static readonly string[] Routes = ["GET apiKeys", "POST login", "POST regenerate", "DELETE sandbox key"];
    public static readonly string?[] FetchSites = [null, "none", "same-origin", "same-site", "cross-site"];
    public static readonly string?[] Origins = [null, "own", "https://evil.example", "null"];

    /// <summary>A content type (null: none) and whether a body is sent.</summary>
    public static readonly (string? Type, bool Body)[] Contents =
    [
        ("application/json", true), ("application/json", false), ("application/json; charset=utf-8", true),
        ("application/x-www-form-urlencoded", true), ("application/x-www-form-urlencoded", false),
        ("text/plain", true), ("text/plain", false), ("multipart/form-data; boundary=x", true), ("multipart/form-data; boundary=x", false),
        (null, false), (null, true),
    ];

    public static TheoryData<string, string?, string?, string?, bool> Cases()
    {
        var data = new TheoryData<string, string?, string?, string?, bool>();
        foreach (var route in Routes)
            foreach (var site in FetchSites)
                foreach (var origin in Origins)
                    foreach (var (type, body) in Contents)
                        data.Add(route, site, origin, type, body);
        return data;
    }

    /// <summary>The one answer the contract gives: the site check first, then the content type, then the route's own answer.</summary>
    private static (HttpStatusCode Status, string? Code) Expected(string route, string? site, string? origin, string? type, bool body)
    {
        if (site is "same-site" or "cross-site" || origin is not (null or "own")) return (HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var json = type?.StartsWith("application/json", StringComparison.Ordinal) == true;
        var write = !route.StartsWith("GET", StringComparison.Ordinal);
        if (!json && (body || (write && type is not null))) return (HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        return route switch
        {
            "GET apiKeys" => (HttpStatusCode.OK, null),
            "POST login" => body ? (HttpStatusCode.OK, null) : (HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT"),
            "POST regenerate" => (HttpStatusCode.OK, null),
            _ => (HttpStatusCode.NoContent, null),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EachHeaderCombinationGetsExactlyOneAnswer(string route, string? site, string? origin, string? type, bool body)
    {
        var before = await app.KeyValueAsync(Org);
        var sandboxId = route == "DELETE sandbox key" ? await SandboxKeyIdAsync() : 0;
        var request = route switch
        {
            "GET apiKeys" => new HttpRequestMessage(HttpMethod.Get, "/api/v1/apiKeys"),
            "POST login" => new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth"),
            "POST regenerate" => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/apiKeys/{Org.KeyId}/regenerate"),
            _ => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/apiKeys/{sandboxId}"),
        };
        if (route != "POST login") request.Headers.Add("Cookie", $"JSESSIONID={fixture.SessionId}");
        if (site is not null) request.Headers.Add("Sec-Fetch-Site", site);
        if (origin is not null) request.Headers.Add("Origin", origin == "own" ? OwnOrigin : origin);
        var text = route == "POST login" ? LoginBody(before) : "{}";
        if (body || type is not null)
        {
            request.Content = new ByteArrayContent(body ? Encoding.UTF8.GetBytes(text) : []);
            if (type is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        }

        using var c = app.Client();
        var r = await c.SendAsync(request);

        var (status, code) = Expected(route, site, origin, type, body);
        if (code is not null)
        {
            var error = await r.AssertError(status, code);
            Assert.Equal(["code", "message"], error.EnumerateObject().Select(p => p.Name).Order());
        }
        else Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");

        var passed = code is null;
        var after = await app.KeyValueAsync(Org);
        switch (route)
        {
            case "POST regenerate":
                // The finding: a refused regenerate must leave the key exactly as it was.
                if (passed) Assert.NotEqual(before, after);
                else Assert.Equal(before, after);
                break;
            case "DELETE sandbox key":
                Assert.Equal(passed, await SandboxKeyIdOrNullAsync() is null);
                Assert.Equal(before, after);
                break;
            case "POST login":
                Assert.Equal(passed && status == HttpStatusCode.OK, SessionIdOf(r) is { Length: > 0 });
                Assert.Equal(before, after);
                break;
            default:
                if (!passed) Assert.DoesNotContain(before, await r.Content.ReadAsStringAsync());
                Assert.Equal(before, after);
                break;
        }
        Assert.DoesNotContain(r.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The exact request of the finding: a form post from a sibling subdomain, empty body, valid cookie.</summary>
    [Fact]
    public async Task TheReportedSiblingSubdomainFormPostNoLongerRegeneratesTheKey()
    {
        var before = await app.KeyValueAsync(Org);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/apiKeys/{Org.KeyId}/regenerate")
        {
            Content = new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") } },
        };
        request.Headers.Add("Cookie", $"JSESSIONID={fixture.SessionId}");
        request.Headers.Add("Sec-Fetch-Site", "same-site");
        request.Headers.Add("Origin", "https://evil.example.test");
        await (await app.Client().SendAsync(request)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        Assert.Equal(before, await app.KeyValueAsync(Org));
    }

    /// <summary>What the public SDKs send: a JSON body, or no body and no content type; a session by cookie or JSessionID header.</summary>
    [Fact]
    public async Task ThePublicSdksRequestsStillPass()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        var key = await app.KeyValueAsync(org);
        var login = await app.LoginAsync(org.Username, org.Password, key); // JSON body
        await login.AssertOk();
        var id = SessionIdOf(login)!;
        using var byHeader = app.Client();
        byHeader.DefaultRequestHeaders.Add("JSessionID", id);
        using var byCookie = app.SessionClient(id);

        await (await byHeader.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await byHeader.GetAsync("/api/v1/auth")).AssertOk();
        var regenerated = await (await byCookie.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk(); // no body, no type
        Assert.NotEqual(key, regenerated.GetProperty("keyValue").GetString());
        await (await byCookie.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewKeyValue() }))).AssertOk();
        var sandbox = await (await byHeader.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        await (await byHeader.DeleteAsync($"/api/v1/apiKeys/{sandbox.GetProperty("id").GetInt64()}")).AssertOk(HttpStatusCode.NoContent);
        await (await byCookie.PutAsync("/api/v1/ecAdminActivateStatus/activate", null)).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await byHeader.DeleteAsync("/auth")).StatusCode); // no body
        Assert.Equal(HttpStatusCode.NoContent, (await byCookie.DeleteAsync("/api/v1/auth")).StatusCode);
    }

    /// <summary>
    /// Behind a listed proxy the server's own origin is the one the browser used (X-Forwarded-Proto and -Host);
    /// from anyone else those headers change nothing.
    /// </summary>
    [Fact]
    public async Task BehindAListedProxyTheOwnOriginIsTheForwardedSchemeAndHost()
    {
        async Task<HttpStatusCode> LoginWithOriginAsync(Dictionary<string, string?> settings)
        {
            await using var a = KeygateApp.With(settings);
            a.StartKestrel();
            var org = await a.CreateOrgAsync();
            var key = await a.KeyValueAsync(org);
            using var c = a.Client();
            c.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
            c.DefaultRequestHeaders.Add("X-Forwarded-Host", "keygate.example.test");
            c.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.5");
            c.DefaultRequestHeaders.Add("Origin", "https://keygate.example.test");
            return (await a.LoginAsync(org.Username, org.Password, key, client: c)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await LoginWithOriginAsync(new() { ["Keygate:KnownProxies:0"] = "127.0.0.1", ["Keygate:KnownProxies:1"] = "::1" }));
        Assert.Equal(HttpStatusCode.Forbidden, await LoginWithOriginAsync([]));
    }

    private string LoginBody(string key)
    {
        var ts = app.NowMs.ToString();
        return JsonSerializer.Serialize(new { apiKey = Obfuscate(key, ts), username = Org.Username, password = Org.Password, timestamp = ts });
    }

    private async Task<long?> SandboxKeyIdOrNullAsync()
    {
        using var session = app.SessionClient(fixture.SessionId);
        var keys = await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk();
        return keys.GetArrayLength() == 0 ? null : keys[0].GetProperty("id").GetInt64();
    }

    private async Task<long> SandboxKeyIdAsync()
    {
        if (await SandboxKeyIdOrNullAsync() is { } id) return id;
        using var session = app.SessionClient(fixture.SessionId);
        var added = await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        return added.GetProperty("id").GetInt64();
    }
}
