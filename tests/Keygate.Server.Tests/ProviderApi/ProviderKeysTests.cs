using System.Net;
using System.Text;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B key disable and enable, and what the legacy API shows of them (errors as contract C).</summary>
public sealed class ProviderKeysTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task DisablingAKeyReturnsTheProviderKeyViewWithoutAValue()
    {
        var org = await app.CreateOrgAsync();
        var value = await app.KeyValueAsync(org);
        app.Clock.Advance(TimeSpan.FromSeconds(3));
        using var op = app.Provider();
        var r = await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Json(new { reason = "TERMS_VIOLATION", note = "Spam campaign reported" }));
        var text = await r.Content.ReadAsStringAsync();
        var view = await r.AssertOk();
        Assert.DoesNotContain(value, text);
        AssertProperties(view, "id", "keyType", "permissions", "enabled", "status", "disabledReason", "lastModifiedTime", "lastModifiedBy", "partnerUrl");
        Assert.Equal(org.KeyId, view.GetProperty("id").GetInt64());
        Assert.Equal("CLOUD_SERVICE", view.GetProperty("keyType").GetString());
        Assert.Equal(new[] { "ALL" }, view.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()!).ToArray());
        Assert.False(view.GetProperty("enabled").GetBoolean());
        Assert.Equal("DISABLED", view.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", view.GetProperty("disabledReason").GetString());
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), view.GetProperty("lastModifiedTime").GetInt64());
        var by = view.GetProperty("lastModifiedBy");
        AssertProperties(by, "id", "name");
        Assert.Equal(0, by.GetProperty("id").GetInt64());
        Assert.Equal(OperatorName, by.GetProperty("name").GetString());
        Assert.Equal("", view.GetProperty("partnerUrl").GetString());

        var key = KeyOf(await GetOrgAsync(org.Id), org.KeyId);
        Assert.Equal("DISABLED", key.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", key.GetProperty("disabledReason").GetString());
        // The value is kept.
        Assert.Equal(value, await app.KeyValueAsync(org));
    }

    [Fact]
    public async Task DisablingAnAlreadyDisabledKeyIsANoOp200()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var first = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("TERMS_VIOLATION", "first"))).AssertOk();
        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var audits = (await AllAuditAsync(org.Id)).Length;
        var again = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("TERMS_VIOLATION", "first"))).AssertOk();
        Assert.Equal("DISABLED", again.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", again.GetProperty("disabledReason").GetString());
        Assert.Equal(first.GetRawText(), again.GetRawText()); // nothing changed, not even lastModifiedTime
        Assert.Equal(audits, (await AllAuditAsync(org.Id)).Length);
    }

    [Fact]
    public async Task EnablingReturns200EnabledAndRepeatingIsANoOp()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        app.Clock.Advance(TimeSpan.FromSeconds(2));
        var enabled = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        Assert.Equal("ENABLED", enabled.GetProperty("status").GetString());
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledReason").ValueKind);
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), enabled.GetProperty("lastModifiedTime").GetInt64());
        Assert.DoesNotContain("keyValue", enabled.GetRawText());

        app.Clock.Advance(TimeSpan.FromSeconds(2));
        var again = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), RawJson("{}"))).AssertOk();
        Assert.Equal(enabled.GetRawText(), again.GetRawText());
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertOk();
    }

    [Fact]
    public async Task DisablingWithReasonThresholdExceededFromAPersonIs400()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);
        using var op = app.Provider();
        await AssertInvalid(await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("THRESHOLD_EXCEEDED")), "reason");
        await AssertInvalid(await c.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("THRESHOLD_EXCEEDED")), "reason");
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id), org.KeyId).GetProperty("status").GetString());
    }

    [Fact]
    public async Task DisablingWithoutAReasonIs400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = KeyUrl(org.Id, org.KeyId, "disable");
        await AssertInvalid(await op.PostAsync(url, Json(new { note = "no reason given" })));
        await AssertInvalid(await op.PostAsync(url, RawJson("{}")));
        await AssertInvalid(await op.PostAsync(url, Json(new { reason = (string?)null, note = "null" })));
        await AssertInvalid(await op.PostAsync(url, Json(new { reason = "BORED", note = "unknown reason" })));
        await AssertProblem(await op.PostAsync(url, null), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await AssertProblem(await op.PostAsync(url, new StringContent("{\"reason\":\"OTHER\",\"note\":\"x\"}", Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id), org.KeyId).GetProperty("status").GetString());
    }

    [Fact]
    public async Task DisablingOrEnablingAnUnknownKeyIdIs404()
    {
        var org = await app.CreateOrgAsync();
        var other = await app.CreateOrgAsync();
        using var op = app.Provider();
        foreach (var keyId in new[] { "999999999", "abc", "0", other.KeyId.ToString() })
        {
            var baseUrl = $"/provider/v1/organizations/{org.Id}/apiKeys/{keyId}";
            await AssertProblem(await op.PostAsync(baseUrl + "/disable", Disable()), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await op.PostAsync(baseUrl + "/enable", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        }
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(other.Id), other.KeyId).GetProperty("status").GetString());
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id), org.KeyId).GetProperty("status").GetString());
    }

    [Fact]
    public async Task LegacyKeyListShowsAProviderDisableWithStatusReasonAndProviderAsModifier()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        using var session = await app.SessionAsync(org);
        var sandbox = await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        var sandboxId = sandbox.GetProperty("id").GetInt64();
        using var op = app.Provider();
        app.Clock.Advance(TimeSpan.FromSeconds(1));

        // The sandbox key disabled: the session still works and shows it.
        await (await op.PostAsync(KeyUrl(org.Id, sandboxId, "disable"), Disable("TERMS_VIOLATION"))).AssertOk();
        var keys = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk();
        var s = keys.EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == sandboxId);
        Assert.Equal("DISABLED", s.GetProperty("status").GetString());
        Assert.False(s.GetProperty("enabled").GetBoolean());
        Assert.Equal("TERMS_VIOLATION", s.GetProperty("disabledReason").GetString());
        Assert.Equal(0, s.GetProperty("lastModifiedBy").GetProperty("id").GetInt64());
        Assert.Equal(OperatorName, s.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), s.GetProperty("lastModifiedTime").GetInt64());
        Assert.Equal(sandbox.GetProperty("keyValue").GetString(), s.GetProperty("keyValue").GetString());
        var cloud = keys.EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == org.KeyId);
        Assert.Equal("ENABLED", cloud.GetProperty("status").GetString());

        // The Cloud Service key disabled: the session is refused with API_KEY_DISABLED (A2) until it is enabled.
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        var after = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var c = Assert.Single(after.EnumerateArray());
        Assert.Equal("ENABLED", c.GetProperty("status").GetString());
        Assert.True(c.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, c.GetProperty("disabledReason").ValueKind);
        Assert.Equal(new ModifiedByJson(0, OperatorName), new ModifiedByJson(c.GetProperty("lastModifiedBy").GetProperty("id").GetInt64(),
            c.GetProperty("lastModifiedBy").GetProperty("name").GetString()!));
    }

    private sealed record ModifiedByJson(long Id, string Name);
}
