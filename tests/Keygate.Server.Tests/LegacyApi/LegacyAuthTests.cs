using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Keygate.Tests;

/// <summary>Contract A2: legacy login, its checks in order, throttling, sessions and cross-site protection.</summary>
public sealed partial class LegacyAuthTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private const string WrongPassword = "Wr0ng-Pa55word-not-the-real-one";
    private const string OtherKey = "ZzYyXxWw9876";

    // ---------- helpers ----------

    private static long NowSec(KeygateApp a) => a.NowMs / 1000;

    /// <summary>An org with its subscription on, limits raised (A5 is not under test here) and its key value.</summary>
    private static async Task<(TestOrg Org, string Key)> OrgWithKeyAsync(KeygateApp a, long? expiresAt = null)
    {
        var org = await a.CreateOrgAsync(expiresAt: expiresAt);
        await a.RaiseLimitsAsync(org.Id);
        return (org, await a.KeyValueAsync(org));
    }

    private static async Task<string> LoginOkAsync(KeygateApp a, TestOrg org, string key)
    {
        var r = await a.LoginAsync(org.Username, org.Password, key);
        await r.AssertOk();
        var id = Scenario.SessionIdOf(r);
        Assert.NotNull(id);
        return id;
    }

    private static string LoginBody(string key, string username, string password, string ts) =>
        JsonSerializer.Serialize(new { apiKey = Scenario.Obfuscate(key, ts), username, password, timestamp = ts });

    private static async Task<HttpResponseMessage> PostLoginAsync(KeygateApp a, string body, string mediaType = "application/json",
        string? secFetchSite = null, string? origin = null)
    {
        using var c = a.Client();
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth") { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        if (secFetchSite is not null) req.Headers.Add("Sec-Fetch-Site", secFetchSite);
        if (origin is not null) req.Headers.Add("Origin", origin);
        return await c.SendAsync(req);
    }

    /// <summary>A legacy error: the status, the code, and a {code,message} body.</summary>
    private static async Task<JsonElement> AssertLegacyError(HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var json = await r.AssertError(status, code);
        Assert.Equal(JsonValueKind.String, json.GetProperty("message").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("message").GetString()));
        return json;
    }

    private static async Task SetKeyEnabledAsync(KeygateApp a, TestOrg org, bool enabled)
    {
        var path = $"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/" + (enabled ? "enable" : "disable");
        var body = enabled ? Scenario.RawJson("{}") : Scenario.Json(new { reason = "TERMS_VIOLATION", note = "x" });
        await (await a.Provider().PostAsync(path, body)).AssertOk();
    }

    private static async Task SetSubscriptionAsync(KeygateApp a, TestOrg org, bool enabled, long? expiresAt) =>
        await (await a.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/subscription",
            Scenario.Json(new { enabled, expiresAt }))).AssertOk();

    private static async Task<HttpResponseMessage> GetAsync(KeygateApp a, string sessionId, string path)
    {
        using var c = a.SessionClient(sessionId);
        return await c.GetAsync(path);
    }

    private static void AssertNoSessionCookie(HttpResponseMessage r) =>
        Assert.False(Scenario.SessionIdOf(r) is { Length: > 0 }, "a refused login must not hand out a session");

    [GeneratedRegex("^[0-9a-fA-F]{32,}$")]
    private static partial Regex HexId();

    // ---------- success ----------

    [Fact]
    public async Task TheSessionCheckOfAnAcceptedCallAllocatesNothing()
    {
        // Every API call passes through it (bench/README.md): session, org snapshot, metering, all from memory.
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        var login = await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org));
        await login.AssertOk();
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Headers.Cookie = "JSESSIONID=" + Scenario.SessionIdOf(login);
        var gate = app.Service<SessionGate>();
        var caller = new LegacyCaller();
        for (var i = 0; i < 2_000; i++) Assert.Null(await gate.CheckAsync(http, caller)); // warm-up: JIT tiers, the org snapshot loads

        // Each half starts right after a usage flush (one runs every few seconds): the first call after it
        // must not allocate either (it did: 48 B, a new hour array, once per flush).
        var allocated = 0L;
        for (var half = 0; half < 2; half++)
        {
            await app.Service<MemoryUsageCounter>().FlushAsync();
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10_000; i++)
                if (await gate.CheckAsync(http, caller) is { } refused) Assert.Fail(refused.Code);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0L, allocated);
        Assert.Equal(org.Id, caller.Org.OrgId);
    }

    [Fact]
    public async Task LoginAnswers200WithTheExactLegacyBodyAsJson()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await app.LoginAsync(org.Username, org.Password, key);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var body = await r.JsonAsync();
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Equal(["authType", "obfuscateApiKey", "passwordExpiryDays", "passwordExpiryTime"],
            body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("ADMIN_LOGIN", body.GetProperty("authType").GetString());
        Assert.Equal(JsonValueKind.True, body.GetProperty("obfuscateApiKey").ValueKind);
        Assert.Equal(-1, body.GetProperty("passwordExpiryTime").GetInt64());
        Assert.Equal(-1, body.GetProperty("passwordExpiryDays").GetInt64());
    }

    [Fact]
    public async Task LoginSetsTheSessionCookieFirstWithPathHttpOnlyAndSameSiteStrictButNoSecureOverHttp()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await app.LoginAsync(org.Username, org.Password, key);
        await r.AssertOk();
        Assert.True(r.Headers.TryGetValues("Set-Cookie", out var cookies));
        var first = cookies.First();
        var id = Scenario.SessionIdOf(r);
        Assert.NotNull(id);
        Assert.StartsWith($"JSESSIONID={id};", first, StringComparison.Ordinal);
        var attributes = first.Split(';').Skip(1).Select(a => a.Trim()).ToArray();
        Assert.Contains(attributes, a => a.Equals("Path=/", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(attributes, a => a.Equals("HttpOnly", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(attributes, a => a.Equals("SameSite=Strict", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(attributes, a => a.Equals("Secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SessionIdsAreAtLeast32HexCharactersAndDifferBetweenLogins()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await LoginOkAsync(app, org, key));
        Assert.All(ids, id => Assert.Matches(HexId(), id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public async Task LoginAcceptsTheTimestampAsAJsonString()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var r = await PostLoginAsync(app, $$"""{"apiKey":"{{Scenario.Obfuscate(key, ts)}}","username":"{{org.Username}}","password":"{{org.Password}}","timestamp":"{{ts}}"}""");
        await r.AssertOk();
        Assert.NotNull(Scenario.SessionIdOf(r));
    }

    [Fact]
    public async Task LoginAcceptsTheTimestampAsAJsonNumber()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var r = await PostLoginAsync(app, $$"""{"apiKey":"{{Scenario.Obfuscate(key, ts)}}","username":"{{org.Username}}","password":"{{org.Password}}","timestamp":{{ts}}}""");
        await r.AssertOk();
        Assert.NotNull(Scenario.SessionIdOf(r));
    }

    [Fact]
    public async Task LoginIgnoresUnknownFields()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var r = await PostLoginAsync(app, $$"""
            {"clientVersion":"6.2","apiKey":"{{Scenario.Obfuscate(key, ts)}}","username":"{{org.Username}}",
             "password":"{{org.Password}}","timestamp":"{{ts}}","extra":{"nested":[1,2,{"x":null}]},"obfuscateApiKey":true}
            """);
        await r.AssertOk();
        Assert.NotNull(Scenario.SessionIdOf(r));
    }

    [Fact]
    public async Task LoginAcceptsATimestampJustInsideTwoHoursEitherWay()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var window = (long)TimeSpan.FromHours(2).TotalMilliseconds;
        await (await app.LoginAsync(org.Username, org.Password, key, app.NowMs - window + 1000)).AssertOk();
        await (await app.LoginAsync(org.Username, org.Password, key, app.NowMs + window - 1000)).AssertOk();
    }

    // ---------- step 1: media type and input ----------

    [Fact]
    public async Task LoginWithATextPlainBodyIs415UnsupportedMediaType()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await PostLoginAsync(app, LoginBody(key, org.Username, org.Password, app.NowMs.ToString()), "text/plain");
        await AssertLegacyError(r, HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task LoginWithAJsonArrayBodyIs400InvalidInputArgument()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await PostLoginAsync(app, "[" + LoginBody(key, org.Username, org.Password, app.NowMs.ToString()) + "]");
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task LoginWithMalformedJsonIs400InvalidInputArgument()
    {
        var (org, _) = await OrgWithKeyAsync(app);
        var r = await PostLoginAsync(app, $$"""{"apiKey":"abc","username":"{{org.Username}}","password":""");
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task LoginWithTheUsernameAsANumberIs400InvalidInputArgument()
    {
        var (_, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var r = await PostLoginAsync(app, $$"""{"apiKey":"{{Scenario.Obfuscate(key, ts)}}","username":12345,"password":"{{Scenario.Password}}","timestamp":"{{ts}}"}""");
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Theory]
    [InlineData("apiKey")]
    [InlineData("username")]
    [InlineData("password")]
    [InlineData("timestamp")]
    public async Task LoginWithAMissingFieldIs400InvalidInputArgument(string missing)
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var fields = new Dictionary<string, string>
        {
            ["apiKey"] = Scenario.Obfuscate(key, ts), ["username"] = org.Username, ["password"] = org.Password, ["timestamp"] = ts,
        };
        fields.Remove(missing);
        var r = await PostLoginAsync(app, JsonSerializer.Serialize(fields));
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task LoginWithANullPasswordIs400InvalidInputArgument()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs.ToString();
        var r = await PostLoginAsync(app, $$"""{"apiKey":"{{Scenario.Obfuscate(key, ts)}}","username":"{{org.Username}}","password":null,"timestamp":"{{ts}}"}""");
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    // ---------- step 3: credentials ----------

    [Fact]
    public async Task UnknownUsernameAndWrongPasswordGetTheSame400InvalidUsernameOrPassword()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var unknown = await app.LoginAsync(Scenario.Unique("nobody"), org.Password, key);
        var wrong = await app.LoginAsync(org.Username, WrongPassword, key);
        var a = await AssertLegacyError(unknown, HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        var b = await AssertLegacyError(wrong, HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Equal(a.GetRawText(), b.GetRawText());
        AssertNoSessionCookie(unknown);
        AssertNoSessionCookie(wrong);
    }

    [Fact]
    public async Task UsernamesAreMatchedCaseInsensitively()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        await (await app.LoginAsync(org.Username.ToUpperInvariant(), org.Password, key)).AssertOk();
    }

    // ---------- step 4: subscription ----------

    [Fact]
    public async Task LoginToAnOrgWithoutSubscriptionIs403ApiSubscriptionRequired()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        var r = await app.LoginAsync(org.Username, org.Password, "AbCdEfGh1234");
        await AssertLegacyError(r, HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task WrongPasswordOnAnOrgWithoutSubscriptionIsInvalidUsernameOrPassword()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        var r = await app.LoginAsync(org.Username, WrongPassword, "AbCdEfGh1234");
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
    }

    [Fact]
    public async Task LoginAfterTheProviderTurnsTheSubscriptionOffIs403ApiSubscriptionRequiredEvenWithAWrongKey()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        await LoginOkAsync(app, org, key);
        await SetSubscriptionAsync(app, org, false, null);
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key), HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, OtherKey), HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");
    }

    // ---------- step 5: the obfuscated key ----------

    [Fact]
    public async Task LoginWithAWrongApiKeyIs400AuthenticationFailed()
    {
        var (org, _) = await OrgWithKeyAsync(app);
        var r = await app.LoginAsync(org.Username, org.Password, OtherKey);
        await AssertLegacyError(r, HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task LoginWithAStaleKeyAfterRegenerateIs400AuthenticationFailed()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        using var session = app.SessionClient(await LoginOkAsync(app, org, key));
        var regenerated = await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        var fresh = regenerated.GetProperty("keyValue").GetString()!;
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        await (await app.LoginAsync(org.Username, org.Password, fresh)).AssertOk();
    }

    [Fact]
    public async Task LoginWithATimestampMoreThanTwoHoursInThePastIs400AuthenticationFailed()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs - (long)TimeSpan.FromHours(2).TotalMilliseconds - 1000;
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key, ts), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    [Fact]
    public async Task LoginWithATimestampMoreThanTwoHoursInTheFutureIs400AuthenticationFailed()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs + (long)TimeSpan.FromHours(2).TotalMilliseconds + 1000;
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key, ts), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    [Fact]
    public async Task AfterTheCloudServiceKeyIsDeletedItsSessionEndsAndLoginIs400AuthenticationFailed()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        using (var session = app.SessionClient(id))
            await (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    // ---------- step 6: key disabled, subscription expired ----------

    [Fact]
    public async Task LoginWithADisabledKeyIs403ApiKeyDisabled()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        await SetKeyEnabledAsync(app, org, false);
        var r = await app.LoginAsync(org.Username, org.Password, key);
        await AssertLegacyError(r, HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        AssertNoSessionCookie(r);
        await SetKeyEnabledAsync(app, org, true);
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    [Fact]
    public async Task WrongPasswordOnADisabledKeyIsInvalidUsernameOrPasswordNotApiKeyDisabled()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        await SetKeyEnabledAsync(app, org, false);
        await AssertLegacyError(await app.LoginAsync(org.Username, WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
    }

    [Fact]
    public async Task WrongKeyOnADisabledKeyIsAuthenticationFailedNotApiKeyDisabled()
    {
        var (org, _) = await OrgWithKeyAsync(app);
        await SetKeyEnabledAsync(app, org, false);
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, OtherKey), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    [Fact]
    public async Task LoginWithAnExpiredSubscriptionIs403SubscriptionExpired()
    {
        var (org, key) = await OrgWithKeyAsync(app, expiresAt: NowSec(app) - 60);
        var r = await app.LoginAsync(org.Username, org.Password, key);
        await AssertLegacyError(r, HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task SubscriptionExpiresExactlyAtExpiresAt()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var at = NowSec(app) + 60;
        await SetSubscriptionAsync(app, org, true, at);
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
        app.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(at));
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key), HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
    }

    [Fact]
    public async Task WrongKeyOnAnExpiredSubscriptionIsAuthenticationFailedNotSubscriptionExpired()
    {
        var (org, _) = await OrgWithKeyAsync(app, expiresAt: NowSec(app) - 60);
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, OtherKey), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    [Fact]
    public async Task WrongPasswordOnAnExpiredSubscriptionIsInvalidUsernameOrPassword()
    {
        var (org, key) = await OrgWithKeyAsync(app, expiresAt: NowSec(app) - 60);
        await AssertLegacyError(await app.LoginAsync(org.Username, WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
    }

    [Fact]
    public async Task ADisabledKeyOnAnExpiredSubscriptionIsApiKeyDisabled()
    {
        var (org, key) = await OrgWithKeyAsync(app, expiresAt: NowSec(app) - 60);
        await SetKeyEnabledAsync(app, org, false);
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, key), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    // ---------- throttling ----------

    [Fact]
    public async Task TenFailuresForAUsernameMakeTheEleventhAttempt429EvenWithTheRightPassword()
    {
        await using var own = new KeygateApp();
        var (org, key) = await OrgWithKeyAsync(own);
        var (other, otherKey) = await OrgWithKeyAsync(own);
        for (var i = 1; i <= 10; i++)
            await AssertLegacyError(await own.LoginAsync(org.Username, WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");

        var r = await own.LoginAsync(org.Username, org.Password, key);
        await AssertLegacyError(r, (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        AssertNoSessionCookie(r);
        var retryAfter = r.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 900);

        await AssertLegacyError(await own.LoginAsync(org.Username, WrongPassword, key), (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        await AssertLegacyError(await own.LoginAsync(org.Username.ToUpperInvariant(), org.Password, key), (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        // Step 1 still answers first.
        await AssertLegacyError(await PostLoginAsync(own, LoginBody(key, org.Username, org.Password, own.NowMs.ToString()), "text/plain"),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await AssertLegacyError(await PostLoginAsync(own, "[]"), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        await (await own.LoginAsync(other.Username, other.Password, otherKey)).AssertOk();
    }

    [Fact]
    public async Task AuthenticationFailedCountsForThrottlingLikeAWrongPassword()
    {
        await using var own = new KeygateApp();
        var (org, key) = await OrgWithKeyAsync(own);
        for (var i = 1; i <= 10; i++)
            await AssertLegacyError(await own.LoginAsync(org.Username, org.Password, OtherKey), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        var r = await own.LoginAsync(org.Username, org.Password, key);
        await AssertLegacyError(r, (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        Assert.True(r.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
    }

    [Fact]
    public async Task AThrottledUsernameLogsInAgainOnceTheWindowHasPassed()
    {
        await using var own = new KeygateApp();
        var (org, key) = await OrgWithKeyAsync(own);
        for (var i = 1; i <= 10; i++)
            await AssertLegacyError(await own.LoginAsync(org.Username, WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await AssertLegacyError(await own.LoginAsync(org.Username, org.Password, key), (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        own.Clock.Advance(TimeSpan.FromMinutes(14));
        await AssertLegacyError(await own.LoginAsync(org.Username, org.Password, key), (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        own.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await (await own.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    [Fact]
    public async Task FailuresAcrossUsernamesFromOneAddressThrottleThatAddress()
    {
        await using var own = KeygateApp.With(new()
        {
            ["Keygate:LoginThrottle:FailuresPerAddress"] = "5",
            ["Keygate:LoginThrottle:FailuresPerUsername"] = "1000",
        });
        var (org, key) = await OrgWithKeyAsync(own);
        var (victim, victimKey) = await OrgWithKeyAsync(own);
        await AssertLegacyError(await own.LoginAsync(org.Username, WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await AssertLegacyError(await own.LoginAsync(org.Username, org.Password, OtherKey), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        for (var i = 0; i < 3; i++)
            await AssertLegacyError(await own.LoginAsync(Scenario.Unique("nobody"), WrongPassword, key), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");

        var r = await own.LoginAsync(victim.Username, victim.Password, victimKey);
        await AssertLegacyError(r, (HttpStatusCode)429, "TOO_MANY_FAILED_LOGINS");
        Assert.True(r.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task InvalidInputAndRefusalsAfterTheCredentialsDoNotCountForThrottling()
    {
        await using var own = new KeygateApp();
        var (org, key) = await OrgWithKeyAsync(own);
        await SetKeyEnabledAsync(own, org, false);
        for (var i = 0; i < 12; i++)
        {
            await AssertLegacyError(await PostLoginAsync(own, JsonSerializer.Serialize(new { username = org.Username, password = WrongPassword })),
                HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
            await AssertLegacyError(await own.LoginAsync(org.Username, org.Password, key), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
            await AssertLegacyError(await PostLoginAsync(own, LoginBody(key, org.Username, WrongPassword, own.NowMs.ToString()), secFetchSite: "cross-site"),
                HttpStatusCode.Forbidden, "ACCESS_DENIED");
        }
        await SetKeyEnabledAsync(own, org, true);
        await (await own.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    // ---------- sessions ----------

    [Fact]
    public async Task GetAuthWithTheSessionCookieAnswers200WithTheLoginBody()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await GetAsync(app, await LoginOkAsync(app, org, key), "/api/v1/auth");
        var body = await r.AssertOk();
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ADMIN_LOGIN", body.GetProperty("authType").GetString());
        Assert.True(body.GetProperty("obfuscateApiKey").GetBoolean());
        Assert.Equal(-1, body.GetProperty("passwordExpiryTime").GetInt64());
        Assert.Equal(-1, body.GetProperty("passwordExpiryDays").GetInt64());
    }

    [Fact]
    public async Task GetAuthWithAJSessionIdHeaderInsteadOfTheCookieAnswers200()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        using var c = app.Client();
        c.DefaultRequestHeaders.Add("JSessionID", id);
        var body = await (await c.GetAsync("/api/v1/auth")).AssertOk();
        Assert.Equal("ADMIN_LOGIN", body.GetProperty("authType").GetString());
        await (await c.GetAsync("/api/v1/apiKeys")).AssertOk();
    }

    [Fact]
    public async Task ASessionIdleFor29Minutes59SecondsStillWorksAndIsExtended()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        var almost = TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1);
        app.Clock.Advance(almost);
        await (await GetAsync(app, id, "/api/v1/auth")).AssertOk();
        app.Clock.Advance(almost); // almost an hour after login, but not 30 minutes after the last request
        await (await GetAsync(app, id, "/api/v1/apiKeys")).AssertOk();
        app.Clock.Advance(almost);
        await (await GetAsync(app, id, "/api/v1/auth")).AssertOk();
    }

    [Fact]
    public async Task ASessionExpires30MinutesAfterItsLastAcceptedRequest()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        await (await GetAsync(app, id, "/api/v1/auth")).AssertOk();
        app.Clock.Advance(TimeSpan.FromMinutes(30));
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/apiKeys"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task RefusedRequestsDoNotExtendTheSession()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        app.Clock.Advance(TimeSpan.FromMinutes(20));
        await SetKeyEnabledAsync(app, org, false);
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/apiKeys"), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await SetKeyEnabledAsync(app, org, true);
        app.Clock.Advance(TimeSpan.FromMinutes(10)); // 30 minutes after the last accepted request (the login)
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task ASessionOnADisabledKeyGets403ApiKeyDisabledAndWorksAgainAfterEnable()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        await SetKeyEnabledAsync(app, org, false);
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/apiKeys"), HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await SetKeyEnabledAsync(app, org, true);
        await (await GetAsync(app, id, "/api/v1/auth")).AssertOk();
        var keys = await (await GetAsync(app, id, "/api/v1/apiKeys")).AssertOk();
        Assert.Equal("ENABLED", keys[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task ASessionOnAnExpiredSubscriptionGets403SubscriptionExpiredAndWorksAgainAfterRenewal()
    {
        var (org, key) = await OrgWithKeyAsync(app, expiresAt: NowSec(app) + 1);
        var id = await LoginOkAsync(app, org, key);
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/apiKeys"), HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await SetSubscriptionAsync(app, org, true, NowSec(app) + 86400);
        await (await GetAsync(app, id, "/api/v1/auth")).AssertOk();
        var keys = await (await GetAsync(app, id, "/api/v1/apiKeys")).AssertOk();
        Assert.Equal(key, keys[0].GetProperty("keyValue").GetString());
        Assert.Equal("ENABLED", keys[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task DeleteApiV1AuthAnswers204AndEndsTheSession()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        using (var c = app.SessionClient(id))
        {
            var r = await c.DeleteAsync("/api/v1/auth");
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode); // twice is fine
        }
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/apiKeys"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task DeleteAuthWithoutTheApiV1PrefixAnswers204AndEndsTheSession()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        using (var c = app.SessionClient(id))
            Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/auth")).StatusCode);
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task LogoutByJSessionIdHeaderEndsTheSession()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var id = await LoginOkAsync(app, org, key);
        using (var c = app.Client())
        {
            c.DefaultRequestHeaders.Add("JSessionID", id);
            Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode);
        }
        await AssertLegacyError(await GetAsync(app, id, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task LogoutWithoutAnySessionAnswers204()
    {
        using var c = app.Client();
        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/auth")).StatusCode);
        using var bogus = app.SessionClient(Convert.ToHexString(Guid.NewGuid().ToByteArray()));
        Assert.Equal(HttpStatusCode.NoContent, (await bogus.DeleteAsync("/api/v1/auth")).StatusCode);
    }

    [Fact]
    public async Task ABogusSessionIdIs401SessionNotValid()
    {
        var bogus = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await AssertLegacyError(await GetAsync(app, bogus, "/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await AssertLegacyError(await GetAsync(app, bogus, "/api/v1/apiKeys"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        using var c = app.Client();
        c.DefaultRequestHeaders.Add("JSessionID", bogus);
        await AssertLegacyError(await c.GetAsync("/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        using var none = app.Client();
        await AssertLegacyError(await none.GetAsync("/api/v1/auth"), HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task ASessionSurvivesARestart()
    {
        await using var first = new KeygateApp();
        var (org, key) = await OrgWithKeyAsync(first);
        var id = await LoginOkAsync(first, org, key);
        await (await GetAsync(first, id, "/api/v1/auth")).AssertOk();

        await using var second = KeygateApp.Reopen(first);
        await first.DisposeAsync();
        await (await GetAsync(second, id, "/api/v1/auth")).AssertOk();
        var keys = await (await GetAsync(second, id, "/api/v1/apiKeys")).AssertOk();
        Assert.Equal(key, keys[0].GetProperty("keyValue").GetString());
    }

    // ---------- cross-site ----------

    [Fact]
    public async Task ACrossSiteLoginIs403AccessDenied()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await PostLoginAsync(app, LoginBody(key, org.Username, org.Password, app.NowMs.ToString()), secFetchSite: "cross-site");
        await AssertLegacyError(r, HttpStatusCode.Forbidden, "ACCESS_DENIED");
        AssertNoSessionCookie(r);
    }

    [Fact]
    public async Task ACrossSiteKeyListingIs403AccessDenied()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        using var c = app.SessionClient(await LoginOkAsync(app, org, key));
        var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apiKeys");
        req.Headers.Add("Sec-Fetch-Site", "cross-site");
        var r = await c.SendAsync(req);
        await AssertLegacyError(r, HttpStatusCode.Forbidden, "ACCESS_DENIED");
        Assert.DoesNotContain(key, await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SameOriginRequestsAreAccepted()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var r = await PostLoginAsync(app, LoginBody(key, org.Username, org.Password, app.NowMs.ToString()), secFetchSite: "same-origin");
        await r.AssertOk();
        using var c = app.SessionClient(Scenario.SessionIdOf(r)!);
        var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apiKeys");
        req.Headers.Add("Sec-Fetch-Site", "same-origin");
        await (await c.SendAsync(req)).AssertOk();
        var direct = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth");
        direct.Headers.Add("Sec-Fetch-Site", "none");
        await (await c.SendAsync(direct)).AssertOk();
    }

    /// <summary>Contract A2 v3: no CORS, and a foreign Origin is refused outright, a login's included.</summary>
    [Fact]
    public async Task LegacyResponsesCarryNoCorsHeadersAndAForeignOriginIsRefused()
    {
        const string origin = "https://evil.example";
        var (org, key) = await OrgWithKeyAsync(app);
        var login = await PostLoginAsync(app, LoginBody(key, org.Username, org.Password, app.NowMs.ToString()), origin: origin);
        await AssertLegacyError(login, HttpStatusCode.Forbidden, "ACCESS_DENIED");
        AssertNoSessionCookie(login);
        using var c = app.SessionClient(await LoginOkAsync(app, org, key));
        var responses = new List<HttpResponseMessage> { login };
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/v1/auth"), (HttpMethod.Get, "/api/v1/apiKeys"), (HttpMethod.Options, "/api/v1/auth"), (HttpMethod.Options, "/api/v1/apiKeys") })
        {
            var req = new HttpRequestMessage(method, path);
            req.Headers.Add("Origin", origin);
            if (method == HttpMethod.Options)
            {
                req.Headers.Add("Access-Control-Request-Method", "POST");
                req.Headers.Add("Access-Control-Request-Headers", "content-type");
            }
            var r = await c.SendAsync(req);
            // A preflight is refused like any request from a foreign origin (any other /api/v1 method goes to the
            // gateway, which checks the origin first): no preflight is ever answered.
            await AssertLegacyError(r, HttpStatusCode.Forbidden, "ACCESS_DENIED");
            responses.Add(r);
        }
        foreach (var r in responses)
        {
            var names = r.Headers.Select(h => h.Key).Concat(r.Content.Headers.Select(h => h.Key)).ToArray();
            Assert.DoesNotContain(names, n => n.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        }
    }

    // ---------- audit ----------

    [Fact]
    public async Task FailedAndSuccessfulLoginsAreAuditedWithoutPasswordOrKey()
    {
        var (org, key) = await OrgWithKeyAsync(app);
        var ts = app.NowMs;
        await AssertLegacyError(await app.LoginAsync(org.Username, WrongPassword, key, ts), HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await AssertLegacyError(await app.LoginAsync(org.Username, org.Password, OtherKey, ts), HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        await (await app.LoginAsync(org.Username, org.Password, key, ts)).AssertOk();
        await app.Service<AuditWriter>().FlushAsync();

        var audit = await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100");
        var text = await audit.Content.ReadAsStringAsync();
        var page = await audit.AssertOk();
        var logins = page.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("action").GetString() == "session.login").ToArray();
        var outcomes = logins.Select(i => i.GetProperty("outcome").GetString()).Order().ToArray();
        Assert.Equal(["AUTHENTICATION_FAILED", "INVALID_USERNAME_OR_PASSWORD", "SUCCESS"], outcomes);
        var success = logins.Single(i => i.GetProperty("outcome").GetString() == "SUCCESS");
        Assert.Equal(org.KeyId, success.GetProperty("keyId").GetInt64());
        Assert.Contains(org.Username, success.GetProperty("actor").GetString(), StringComparison.OrdinalIgnoreCase);

        foreach (var secret in new[] { org.Password, WrongPassword, key, OtherKey, Scenario.Obfuscate(key, ts.ToString()), Scenario.Obfuscate(OtherKey, ts.ToString()) })
            Assert.DoesNotContain(secret, text);
        foreach (var item in logins)
            foreach (var field in new[] { "actor", "detail" })
            {
                var value = item.GetProperty(field).GetString() ?? "";
                Assert.DoesNotContain(org.Password, value);
                Assert.DoesNotContain(key, value);
            }
    }
}
