using System.Net;
using System.Text;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B organizations: create, read, list, search and PATCH (errors as contract C).</summary>
public sealed class ProviderOrganizationsTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task CreatingAnOrgReturns201WithTheContractShape()
    {
        using var op = app.Provider();
        var name = "Shape " + Guid.NewGuid().ToString("N")[..8];
        var r = await op.PostAsync("/provider/v1/organizations", Json(new { name, admin = new { username = Unique(), password = Password } }));
        var org = await r.AssertOk(HttpStatusCode.Created);

        AssertProperties(org, "id", "name", "serviceProviderId", "baseUrl", "subscription", "limits", "endSessionsOnKeyChange", "passwordExpiryDays", "suspended", "keys");
        Assert.True(org.GetProperty("id").GetInt64() > 0);
        Assert.Equal(name, org.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, org.GetProperty("serviceProviderId").ValueKind);
        Assert.Equal("https://api.example.test/api/v1", org.GetProperty("baseUrl").GetString());
        var sub = org.GetProperty("subscription");
        AssertProperties(sub, "enabled", "expiresAt");
        Assert.False(sub.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, sub.GetProperty("expiresAt").ValueKind);
        Assert.False(org.GetProperty("endSessionsOnKeyChange").GetBoolean());
        Assert.Equal(JsonValueKind.Array, org.GetProperty("keys").ValueKind);
        Assert.Equal(0, org.GetProperty("keys").GetArrayLength());

        var limits = org.GetProperty("limits");
        AssertProperties(limits, "callThreshold", "rates", "sandboxDailyQuota");
        var t = limits.GetProperty("callThreshold");
        AssertProperties(t, "calls", "windowSeconds", "warnAtPercent");
        Assert.Equal(100000, t.GetProperty("calls").GetInt64());
        Assert.Equal(86400, t.GetProperty("windowSeconds").GetInt64());
        Assert.Equal(80, t.GetProperty("warnAtPercent").GetInt32());
        var rates = limits.GetProperty("rates");
        AssertProperties(rates, "light", "medium", "heavy");
        AssertProperties(rates.GetProperty("light"), "perSecond", "perHour");
        AssertProperties(rates.GetProperty("medium"), "perSecond", "perHour");
        AssertProperties(rates.GetProperty("heavy"), "perMinute", "perHour");
        Assert.Equal(2, rates.GetProperty("light").GetProperty("perSecond").GetInt32());
        Assert.Equal(1000, rates.GetProperty("light").GetProperty("perHour").GetInt32());
        Assert.Equal(1, rates.GetProperty("medium").GetProperty("perSecond").GetInt32());
        Assert.Equal(400, rates.GetProperty("medium").GetProperty("perHour").GetInt32());
        Assert.Equal(1, rates.GetProperty("heavy").GetProperty("perMinute").GetInt32());
        Assert.Equal(4, rates.GetProperty("heavy").GetProperty("perHour").GetInt32());
        Assert.Equal(100, limits.GetProperty("sandboxDailyQuota").GetInt32());

        // GET answers the same view.
        Assert.Equal(org.GetRawText(), (await GetOrgAsync(org.GetProperty("id").GetInt64())).GetRawText());

        // With a subscription the key appears with the contract's key fields.
        var id = org.GetProperty("id").GetInt64();
        var subscribed = await (await op.PutAsync($"/provider/v1/organizations/{id}/subscription", Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
        var key = Assert.Single(subscribed.GetProperty("keys").EnumerateArray());
        AssertProperties(key, "id", "keyType", "status", "disabledReason", "lastModifiedTime");
        Assert.Equal("CLOUD_SERVICE", key.GetProperty("keyType").GetString());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("disabledReason").ValueKind);
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), key.GetProperty("lastModifiedTime").GetInt64());
    }

    [Fact]
    public async Task ProviderResponsesNeverContainKeyValues()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        var cloud = await app.KeyValueAsync(org);
        using var session = await app.SessionAsync(org);
        var sandbox = await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        var sandboxValue = sandbox.GetProperty("keyValue").GetString()!;
        var sandboxId = sandbox.GetProperty("id").GetInt64();

        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}";
        var responses = new List<HttpResponseMessage>
        {
            await op.GetAsync(url),
            await op.GetAsync("/provider/v1/organizations"),
            await op.SendAsync(Patch(url, new { name = "Renamed " + org.Id })),
            await op.PutAsync(url + "/subscription", Json(new { enabled = true, expiresAt = (long?)null })),
            await op.PutAsync(url + "/limits", Json(new { sandboxDailyQuota = 50 })),
            await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable()),
            await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null),
            await op.PostAsync(KeyUrl(org.Id, sandboxId, "disable"), Disable("OTHER")),
            await op.PostAsync(KeyUrl(org.Id, sandboxId, "enable"), null),
            await op.PostAsync(url + "/admins", Json(new { username = Unique(), password = Password, role = "READ_ONLY" })),
            await op.GetAsync(url + "/audit?limit=100"),
        };
        foreach (var r in responses)
        {
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.IsSuccessStatusCode, $"{r.RequestMessage!.Method} {r.RequestMessage.RequestUri} → {(int)r.StatusCode}: {text}");
            Assert.DoesNotContain(cloud, text);
            Assert.DoesNotContain(sandboxValue, text);
            Assert.DoesNotContain("keyValue", text);
        }
        var view = await GetOrgAsync(org.Id);
        Assert.Equal(2, view.GetProperty("keys").GetArrayLength());
    }

    [Fact]
    public async Task CreatingAnOrgWithATakenUsernameIs409AndCreatesNothing()
    {
        var existing = await app.CreateOrgAsync(subscribe: false);
        var before = (await ListOrgsAsync()).GetArrayLength();
        using var op = app.Provider();
        var name = "Dup " + Guid.NewGuid().ToString("N");
        foreach (var username in new[] { existing.Username, existing.Username.ToUpperInvariant() })
        {
            var r = await op.PostAsync("/provider/v1/organizations", Json(new { name, admin = new { username, password = "another password 123" } }));
            var text = await r.Content.ReadAsStringAsync();
            await AssertProblem(r, HttpStatusCode.Conflict, "USERNAME_TAKEN");
            Assert.DoesNotContain("another password 123", text);
        }
        Assert.Equal(before, (await ListOrgsAsync()).GetArrayLength());
        Assert.Equal(0, (await ListOrgsAsync(search: name)).GetArrayLength());
        // The existing admin still logs in with their own password (nothing was overwritten).
        using var portal = await app.PortalLoginAsync(existing.Username, existing.Password);
    }

    [Fact]
    public async Task CreatingAnOrgWithUnknownFieldsIs400WithErrors()
    {
        using var op = app.Provider();
        var before = (await ListOrgsAsync()).GetArrayLength();
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations",
            RawJson($$$"""{"name":"Unknown","admin":{"username":"{{{Unique()}}}","password":"{{{Password}}}"},"color":"red"}""")));
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations",
            RawJson($$$"""{"name":"Unknown","admin":{"username":"{{{Unique()}}}","password":"{{{Password}}}","role":"SUPER_ADMIN"}}""")));
        Assert.Equal(before, (await ListOrgsAsync()).GetArrayLength());
    }

    [Fact]
    public async Task CreatingAnOrgWithWrongTypesIs400()
    {
        using var op = app.Provider();
        var u = Unique();
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson($$$"""{"name":123,"admin":{"username":"{{{u}}}","password":"{{{Password}}}"}}""")), "name");
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""{"name":"Typed","admin":"alice"}""")), "admin");
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson($$$"""{"name":"Typed","serviceProviderId":"one","admin":{"username":"{{{u}}}","password":"{{{Password}}}"}}""")), "serviceProviderId");
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson($$$"""{"name":"Typed","admin":{"username":"{{{u}}}","password":12345678}}""")));
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""["not","an","object"]""")));
        // The username was not used by any of them.
        await CreateNamedOrgAsyncWithAdmin(u);
    }

    [Fact]
    public async Task CreatingAnOrgWithoutAdminIs400()
    {
        using var op = app.Provider();
        var before = (await ListOrgsAsync()).GetArrayLength();
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""{"name":"No admin"}""")));
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""{"name":"No admin","admin":null}""")));
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""{"name":"No admin","admin":{}}""")));
        await AssertInvalid(await op.PostAsync("/provider/v1/organizations", RawJson("""{"name":"No admin","admin":{"username":"x@y.example","password":"short"}}""")), "password");
        Assert.Equal(before, (await ListOrgsAsync()).GetArrayLength());
    }

    [Fact]
    public async Task CreatingAnOrgAsTextPlainIs415()
    {
        using var op = app.Provider();
        var body = $$$"""{"name":"Plain","admin":{"username":"{{{Unique()}}}","password":"{{{Password}}}"}}""";
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", new StringContent(body, Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "Form" })),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task CreatingAnOrgWithMalformedJsonIs400()
    {
        using var op = app.Provider();
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("{\"name\":\"Broken\",\"admin\":{")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("{name:'x'}")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task NonNumericOrUnknownOrgIdIs404()
    {
        using var op = app.Provider();
        foreach (var id in new[] { "abc", "1.5", "1e3", "99999999999999999999", "999999999", "0", "-1" })
        {
            var url = $"/provider/v1/organizations/{id}";
            await AssertProblem(await op.GetAsync(url), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await op.SendAsync(Patch(url, new { name = "x" })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await op.PutAsync(url + "/subscription", Json(new { enabled = true, expiresAt = (long?)null })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await op.GetAsync(url + "/audit"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        }
    }

    [Fact]
    public async Task ListingOrgsWithSearchFiltersByName()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        var alpha = await CreateNamedOrgAsync($"Search {tag} Alpha");
        var beta = await CreateNamedOrgAsync($"Search {tag} Beta");
        await CreateNamedOrgAsync("Unrelated " + Guid.NewGuid().ToString("N")[..8]);

        var both = await ListOrgsAsync(search: tag);
        Assert.Equal(new[] { alpha.GetProperty("id").GetInt64(), beta.GetProperty("id").GetInt64() },
            both.EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray());
        var one = await ListOrgsAsync(search: $"{tag} Beta");
        Assert.Equal(beta.GetProperty("id").GetInt64(), Assert.Single(one.EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(0, (await ListOrgsAsync(search: "no-such-org-" + tag)).GetArrayLength());

        // A service provider's search sees only its own orgs.
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var own = await CreateNamedOrgAsync($"Search {tag} Gamma", c);
        Assert.Equal(own.GetProperty("id").GetInt64(), Assert.Single((await ListOrgsAsync(c, tag)).EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(3, (await ListOrgsAsync(search: tag)).GetArrayLength());
    }

    // ---------- PATCH ----------

    [Fact]
    public async Task PatchingNameBaseUrlAndEndSessionsOnKeyChangeReturns200AndIsReflected()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}";
        var newName = "Patched " + Guid.NewGuid().ToString("N")[..8];

        var r1 = await (await op.SendAsync(Patch(url, new { name = newName }))).AssertOk();
        Assert.Equal(newName, r1.GetProperty("name").GetString());
        Assert.Equal("https://api.example.test/api/v1", r1.GetProperty("baseUrl").GetString());
        Assert.False(r1.GetProperty("endSessionsOnKeyChange").GetBoolean());

        var r2 = await (await op.SendAsync(Patch(url, new { baseUrl = "https://zs2.example.net/api/v1" }))).AssertOk();
        Assert.Equal(newName, r2.GetProperty("name").GetString());
        Assert.Equal("https://zs2.example.net/api/v1", r2.GetProperty("baseUrl").GetString());

        var r3 = await (await op.SendAsync(Patch(url, new { endSessionsOnKeyChange = true }))).AssertOk();
        Assert.True(r3.GetProperty("endSessionsOnKeyChange").GetBoolean());
        Assert.Equal("https://zs2.example.net/api/v1", r3.GetProperty("baseUrl").GetString());

        var view = await GetOrgAsync(org.Id);
        Assert.Equal(newName, view.GetProperty("name").GetString());
        Assert.Equal("https://zs2.example.net/api/v1", view.GetProperty("baseUrl").GetString());
        Assert.True(view.GetProperty("endSessionsOnKeyChange").GetBoolean());
        Assert.Equal(org.KeyId, KeyOf(view, org.KeyId).GetProperty("id").GetInt64());
        Assert.Contains(newName, (await ListOrgsAsync(search: newName))[0].GetProperty("name").GetString());

        // All three at once, and the portal shows the new base URL.
        var r4 = await (await op.SendAsync(Patch(url, new { name = newName + "!", baseUrl = "http://other.example/api/v1", endSessionsOnKeyChange = false }))).AssertOk();
        Assert.Equal(newName + "!", r4.GetProperty("name").GetString());
        Assert.Equal("http://other.example/api/v1", r4.GetProperty("baseUrl").GetString());
        Assert.False(r4.GetProperty("endSessionsOnKeyChange").GetBoolean());
        Assert.Contains("data-base-url=\"http://other.example/api/v1\"", await app.PortalPageAsync(org.Username, org.Password));
    }

    [Fact]
    public async Task PatchingAnInvalidBaseUrlIs400AndChangesNothing()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}";
        foreach (var bad in new[] { "not a url", "/relative/path", "ftp://files.example/api", "javascript:alert(1)", "" })
            await AssertInvalid(await op.SendAsync(Patch(url, new { name = "Should not apply", baseUrl = bad })), "baseUrl");
        await AssertInvalid(await op.SendAsync(Patch(url, new { baseUrl = 42 })), "baseUrl");
        await AssertInvalid(await op.SendAsync(Patch(url, new { name = "" })), "name");
        await AssertInvalid(await op.SendAsync(Patch(url, new { colour = "blue" })));
        var view = await GetOrgAsync(org.Id);
        Assert.Equal("https://api.example.test/api/v1", view.GetProperty("baseUrl").GetString());
        Assert.NotEqual("Should not apply", view.GetProperty("name").GetString());
    }
}
