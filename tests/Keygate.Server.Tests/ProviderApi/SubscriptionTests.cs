using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B subscription rules and their effect on the legacy API (A2, A3) and the portal.</summary>
public sealed class SubscriptionTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private static async Task<JsonElement> SetSubscriptionAsync(KeygateApp app, long orgId, bool enabled, long? expiresAt)
    {
        using var op = app.Provider();
        return await (await op.PutAsync($"/provider/v1/organizations/{orgId}/subscription", Json(new { enabled, expiresAt }))).AssertOk();
    }

    private static async Task<JsonElement> GetOrgAsync(KeygateApp app, long orgId)
    {
        using var op = app.Provider();
        return await (await op.GetAsync($"/provider/v1/organizations/{orgId}")).AssertOk();
    }

    private static JsonElement CloudKey(JsonElement org) =>
        org.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("keyType").GetString() == "CLOUD_SERVICE");

    private static async Task<JsonElement[]> AuditAsync(KeygateApp app, long orgId)
    {
        using var op = app.Provider();
        var page = await (await op.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).AssertOk();
        return page.GetProperty("items").EnumerateArray().ToArray();
    }

    /// <summary>Moves the fake clock to the next whole second, so "expiresAt - 1 ms" is exact.</summary>
    private static long AlignToSecond(KeygateApp app)
    {
        var ms = app.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (ms % 1000 != 0) app.Clock.Advance(TimeSpan.FromMilliseconds(1000 - ms % 1000));
        return app.Clock.GetUtcNow().ToUnixTimeSeconds();
    }

    private static void AdvanceTo(KeygateApp app, long epochMs)
    {
        var now = app.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.True(epochMs >= now, "the clock only moves forward");
        app.Clock.Advance(TimeSpan.FromMilliseconds(epochMs - now));
        Assert.Equal(epochMs, app.Clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task EnablingASubscriptionOnAnOrgWithoutAKeyProvisionsOneEnabledCloudServiceKey()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        var before = await GetOrgAsync(app, org.Id);
        Assert.False(before.GetProperty("subscription").GetProperty("enabled").GetBoolean());
        Assert.Equal(0, before.GetProperty("keys").GetArrayLength());

        var after = await SetSubscriptionAsync(app, org.Id, true, null);
        Assert.True(after.GetProperty("subscription").GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("subscription").GetProperty("expiresAt").ValueKind);
        var key = Assert.Single(after.GetProperty("keys").EnumerateArray());
        Assert.Equal("CLOUD_SERVICE", key.GetProperty("keyType").GetString());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("disabledReason").ValueKind);
        Assert.True(key.GetProperty("id").GetInt64() > 0);

        var value = await app.KeyValueAsync(org with { KeyId = key.GetProperty("id").GetInt64() });
        Assert.Matches("^[A-Za-z0-9]{12}$", value);
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertOk();
        Assert.Single(await AuditAsync(app, org.Id), e => e.GetProperty("action").GetString() == "key.provision");
    }

    [Fact]
    public async Task TurningTheSubscriptionOffAndOnKeepsTheSameKeyWithoutASecondProvisioning()
    {
        var org = await app.CreateOrgAsync();
        var value = await app.KeyValueAsync(org);

        var off = await SetSubscriptionAsync(app, org.Id, false, null);
        Assert.False(off.GetProperty("subscription").GetProperty("enabled").GetBoolean());
        Assert.Equal(org.KeyId, Assert.Single(off.GetProperty("keys").EnumerateArray()).GetProperty("id").GetInt64());

        var on = await SetSubscriptionAsync(app, org.Id, true, null);
        var key = Assert.Single(on.GetProperty("keys").EnumerateArray());
        Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.Equal(value, await app.KeyValueAsync(org));

        // Enabled again while enabled: still nothing new.
        var again = await SetSubscriptionAsync(app, org.Id, true, null);
        Assert.Equal(org.KeyId, Assert.Single(again.GetProperty("keys").EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(value, await app.KeyValueAsync(org));
        Assert.Single(await AuditAsync(app, org.Id), e => e.GetProperty("action").GetString() == "key.provision");
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertOk();
    }

    [Fact]
    public async Task ADisabledSubscriptionRefusesLoginWithApiSubscriptionRequiredAndKeepsTheKey()
    {
        var org = await app.CreateOrgAsync();
        var value = await app.KeyValueAsync(org);
        await SetSubscriptionAsync(app, org.Id, false, null);

        await (await app.LoginAsync(org.Username, org.Password, value)).AssertError(HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");
        // Step 4 comes before the key check: a wrong key gets the same answer.
        await (await app.LoginAsync(org.Username, org.Password, "AAAAAAAAAAAA")).AssertError(HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");

        var view = await GetOrgAsync(app, org.Id);
        Assert.Equal(org.KeyId, CloudKey(view).GetProperty("id").GetInt64());
        Assert.Equal(value, await app.KeyValueAsync(org));

        await SetSubscriptionAsync(app, org.Id, true, null);
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertOk();
    }

    [Fact]
    public async Task TheSubscriptionExpiresExactlyAtExpiresAtAndTheKeyValueIsKept()
    {
        var now = AlignToSecond(app);
        var expiresAt = now + 10;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        await app.RaiseLimitsAsync(org.Id);
        var value = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);

        AdvanceTo(app, expiresAt * 1000 - 1); // now + 9.999 s
        var keys = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal("ENABLED", keys[0].GetProperty("status").GetString());
        Assert.Equal("ENABLED", CloudKey(await GetOrgAsync(app, org.Id)).GetProperty("status").GetString());

        AdvanceTo(app, expiresAt * 1000); // exactly expiresAt
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");

        var view = await GetOrgAsync(app, org.Id);
        Assert.Equal(expiresAt, view.GetProperty("subscription").GetProperty("expiresAt").GetInt64());
        Assert.True(view.GetProperty("subscription").GetProperty("enabled").GetBoolean());
        var key = CloudKey(view);
        Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.Equal("SUBSCRIPTION_EXPIRED", key.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("disabledReason").ValueKind);
        Assert.Equal(value, await app.KeyValueAsync(org));
    }

    [Fact]
    public async Task RenewalBringsBackTheSameSessionAndKeyExactlyAsBefore()
    {
        var now = AlignToSecond(app);
        var expiresAt = now + 10;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        await app.RaiseLimitsAsync(org.Id);
        var value = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);
        var before = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();

        AdvanceTo(app, (expiresAt + 5) * 1000);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");

        var renewed = await SetSubscriptionAsync(app, org.Id, true, expiresAt + 600);
        Assert.Equal(expiresAt + 600, renewed.GetProperty("subscription").GetProperty("expiresAt").GetInt64());
        var key = CloudKey(renewed);
        Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());

        // The same session works again and sees the same key, unchanged.
        var after = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal(value, after[0].GetProperty("keyValue").GetString());
        await (await session.GetAsync("/api/v1/auth")).AssertOk();
        Assert.Equal(value, await app.KeyValueAsync(org));
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertOk();

        // And it expires again at the new instant.
        AdvanceTo(app, (expiresAt + 600) * 1000);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
    }

    [Fact]
    public async Task ANullExpiresAtNeverExpires()
    {
        await using var own = new KeygateApp();
        var org = await own.CreateOrgAsync(expiresAt: null);
        var value = await own.KeyValueAsync(org);
        Assert.Equal(JsonValueKind.Null, (await GetOrgAsync(own, org.Id)).GetProperty("subscription").GetProperty("expiresAt").ValueKind);

        own.Clock.Advance(TimeSpan.FromDays(365 * 50));
        Assert.Equal("ENABLED", CloudKey(await GetOrgAsync(own, org.Id)).GetProperty("status").GetString());
        var login = await own.LoginAsync(org.Username, org.Password, value);
        await login.AssertOk();
        using var session = own.SessionClient(SessionIdOf(login)!);
        var keys = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal("ENABLED", keys[0].GetProperty("status").GetString());
        Assert.True(keys[0].GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task RenewalDoesNotLiftAProviderDisable()
    {
        var now = AlignToSecond(app);
        var expiresAt = now + 60;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        await app.RaiseLimitsAsync(org.Id);
        var value = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);
        using var op = app.Provider();

        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "TERMS_VIOLATION", note = "abuse" }))).AssertOk();
        AdvanceTo(app, (expiresAt + 1) * 1000);
        var expired = CloudKey(await GetOrgAsync(app, org.Id));
        Assert.Equal("DISABLED", expired.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", expired.GetProperty("disabledReason").GetString());

        var renewed = CloudKey(await SetSubscriptionAsync(app, org.Id, true, expiresAt + 86400));
        Assert.Equal("DISABLED", renewed.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", renewed.GetProperty("disabledReason").GetString());
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        // Only an enable lifts it, and then the kept session and key work again.
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        var keys = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal("ENABLED", keys[0].GetProperty("status").GetString());
        Assert.Equal(value, keys[0].GetProperty("keyValue").GetString());
    }

    [Fact]
    public async Task ThePortalPageOfAnExpiredOrgShowsTheExpiredBannerAndNoAddButton()
    {
        var now = AlignToSecond(app);
        var expiresAt = now + 5;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        var value = await app.KeyValueAsync(org);

        // Before expiry the sandbox key can be added and there is no banner.
        var live = await app.PortalPageAsync(org.Username, org.Password);
        Assert.Contains("handler=Add", live);
        Assert.DoesNotMatch(new Regex("class=\"banner\"[^>]*>[^<]*expired", RegexOptions.IgnoreCase), live);

        AdvanceTo(app, expiresAt * 1000);
        var page = await app.PortalPageAsync(org.Username, org.Password);
        Assert.Matches(new Regex("class=\"banner\"[^>]*>[^<]*expired", RegexOptions.IgnoreCase), page);
        Assert.DoesNotContain("handler=Add", page);
        Assert.DoesNotMatch(new Regex(@"<button[^>]*>\s*Add\b"), page);
        Assert.Contains($"data-key-value=\"{value}\"", page);
        Assert.Contains("data-status=\"SUBSCRIPTION_EXPIRED\"", page);
    }
}
