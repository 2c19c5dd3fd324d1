using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

public sealed record TestOrg(long Id, string Username, string Password, long KeyId);

/// <summary>Arrange helpers that go through the real APIs, the way a client would.</summary>
public static partial class Scenario
{
    public const string Password = "correct horse battery";

    public static string Unique(string prefix = "u") => $"{prefix}-{Guid.NewGuid():N}@test.example";

    /// <summary>A valid Cloud Service key value (contract A4: exactly 12 of A-Z a-z 0-9), random.</summary>
    public static string NewKeyValue() =>
        System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 12);

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static StringContent RawJson(string body) => new(body, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and the stable code, for legacy {code,message} and ProblemDetails bodies alike.</summary>
    public static async Task<JsonElement> AssertError(this HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == status, $"expected {(int)status} {code}, got {(int)r.StatusCode}: {body}");
        var json = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, json.GetProperty("code").GetString());
        return json;
    }

    public static async Task<JsonElement> AssertOk(this HttpResponseMessage r, HttpStatusCode status = HttpStatusCode.OK)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Creates an org with a SUPER_ADMIN through the provider API, and by default turns its subscription on.</summary>
    /// <remarks>
    /// The org's rate limits and threshold are raised (contract A5: tests of other rules raise them) unless
    /// <paramref name="defaultLimits"/> asks for the contract's defaults.
    /// </remarks>
    public static Task<TestOrg> CreateOrgAsync(this KeygateApp app, bool subscribe = true, long? expiresAt = null,
        HttpClient? provider = null, long? serviceProviderId = null, bool defaultLimits = false, string? username = null) =>
        CreateOrgAsync(provider ?? app.Provider(), app.Provider(), subscribe, expiresAt, serviceProviderId, defaultLimits, username);

    /// <summary>The same on any server (a node process, say); the limits are raised with <paramref name="operatorClient"/>.</summary>
    public static async Task<TestOrg> CreateOrgAsync(HttpClient provider, HttpClient operatorClient, bool subscribe = true,
        long? expiresAt = null, long? serviceProviderId = null, bool defaultLimits = false, string? username = null)
    {
        username ??= Unique("admin");
        var created = await (await provider.PostAsync("/provider/v1/organizations", Json(new
        {
            name = "Org " + Guid.NewGuid().ToString("N")[..8],
            serviceProviderId,
            admin = new { username, password = Password },
        }))).AssertOk(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetInt64();
        if (!defaultLimits) await RaiseLimitsAsync(operatorClient, id);
        long keyId = 0;
        if (subscribe)
        {
            var org = await (await provider.PutAsync($"/provider/v1/organizations/{id}/subscription",
                Json(new { enabled = true, expiresAt }))).AssertOk();
            keyId = org.GetProperty("keys")[0].GetProperty("id").GetInt64();
        }
        return new TestOrg(id, username, Password, keyId);
    }

    /// <summary>The current Cloud Service key value, as the org admin reads it in the portal.</summary>
    public static async Task<string> KeyValueAsync(this KeygateApp app, TestOrg org, string type = "CLOUD_SERVICE")
    {
        var page = await app.PortalPageAsync(org.Username, org.Password);
        return KeyValueOnPage(page, type) ?? throw new Xunit.Sdk.XunitException("the key page shows no key value");
    }

    /// <summary>The key value the portal's key page shows for this key type, or null when it shows none.</summary>
    public static string? KeyValueOnPage(string page, string type = "CLOUD_SERVICE") =>
        Regex.Match(page, $"data-key-type=\"{type}\"[\\s\\S]*?data-key-value=\"([^\"]+)\"") is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>
    /// Contract A1, written independently of the server's code: the last six digits H of the millisecond
    /// timestamp pick key[d]; then L = H >> 1, zero-padded to six digits, picks key[d + 2].
    /// </summary>
    public static string Obfuscate(string key, string ts)
    {
        var high = ts[^6..];
        var low = (int.Parse(high) >> 1).ToString("D6");
        return string.Concat(high.Select(d => key[d - '0'])) + string.Concat(low.Select(d => key[d - '0' + 2]));
    }

    public static Task<HttpResponseMessage> LoginAsync(this KeygateApp app, string username, string password, string key,
        long? tsMs = null, HttpClient? client = null) =>
        (client ?? app.Client()).LoginAsync(username, password, key, tsMs ?? app.NowMs);

    /// <summary>A legacy login (contract A2) with the key obfuscated for <paramref name="tsMs"/> (contract A1).</summary>
    public static Task<HttpResponseMessage> LoginAsync(this HttpClient client, string username, string password, string key, long tsMs)
    {
        var ts = tsMs.ToString();
        return client.PostAsync("/api/v1/auth", Json(new { apiKey = Obfuscate(key, ts), username, password, timestamp = ts }));
    }

    [GeneratedRegex("JSESSIONID=(.*?);")]
    private static partial Regex SessionCookie();

    /// <summary>Reads the session id the way public SDKs do: the first Set-Cookie, regex JSESSIONID=(.*?);</summary>
    public static string? SessionIdOf(HttpResponseMessage r) =>
        r.Headers.TryGetValues("Set-Cookie", out var v) && SessionCookie().Match(v.First()) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Logs in with the org's current key and returns a client carrying the session cookie.</summary>
    public static async Task<HttpClient> SessionAsync(this KeygateApp app, TestOrg org)
    {
        var key = await app.KeyValueAsync(org);
        var r = await app.LoginAsync(org.Username, org.Password, key);
        await r.AssertOk();
        return app.SessionClient(SessionIdOf(r)!);
    }

    public static HttpClient SessionClient(this KeygateApp app, string sessionId)
    {
        var c = app.Client();
        c.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={sessionId}");
        return c;
    }

    /// <summary>Raises an org's rate limits so tests of other rules are not metered out (contract A5).</summary>
    public static Task RaiseLimitsAsync(this KeygateApp app, long orgId) => RaiseLimitsAsync(app.Provider(), orgId);

    public static async Task RaiseLimitsAsync(HttpClient operatorClient, long orgId) =>
        await (await operatorClient.PutAsync($"/provider/v1/organizations/{orgId}/limits", Json(RaisedLimits))).AssertOk();

    /// <summary>The body of PUT …/limits that takes rate limits and the threshold out of a test's way.</summary>
    public static readonly object RaisedLimits = ThresholdOnly(1_000_000_000L);

    /// <summary>The body of PUT …/limits that leaves only a call threshold of <paramref name="calls"/> a day in a test's way.</summary>
    public static object ThresholdOnly(long calls) => new
    {
        callThreshold = new { calls, windowSeconds = 86400 },
        rates = new
        {
            light = new { perSecond = 100_000, perHour = 100_000_000 },
            medium = new { perSecond = 100_000, perHour = 100_000_000 },
            heavy = new { perMinute = 100_000, perHour = 100_000_000 },
        },
    };
}
