using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B (provider API) and C (ProblemDetails errors), over HTTP on the real host.</summary>
public sealed class ProviderApiTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private sealed record Sp(long Id, string Name, string Token);

    private string OperatorName => app.Service<IOptions<KeygateOptions>>().Value.OperatorName;

    // ---------- helpers ----------

    private async Task<Sp> CreateServiceProviderAsync(string? name = null)
    {
        using var op = app.Provider();
        name ??= "SP " + Guid.NewGuid().ToString("N")[..10];
        var body = await (await op.PostAsync("/provider/v1/serviceProviders", Json(new { name }))).AssertOk(HttpStatusCode.Created);
        return new Sp(body.GetProperty("id").GetInt64(), body.GetProperty("name").GetString()!, body.GetProperty("token").GetString()!);
    }

    /// <summary>Contract C: RFC 9457 problem+json with type, title, status, detail, code and traceId.</summary>
    private static async Task<JsonElement> AssertProblem(HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var json = await r.AssertError(status, code);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        foreach (var field in new[] { "type", "title", "detail", "code", "traceId" })
        {
            Assert.True(json.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0,
                $"problem field {field} is missing or empty: {json}");
        }
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        return json;
    }

    private static async Task<JsonElement> AssertInvalid(HttpResponseMessage r, params string[] fields)
    {
        var json = await AssertProblem(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.True(json.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object && errors.EnumerateObject().Any(),
            $"expected per-field errors: {json}");
        foreach (var f in fields) Assert.True(errors.TryGetProperty(f, out _), $"expected an error for {f}: {errors}");
        return json;
    }

    private static void AssertProperties(JsonElement e, params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

    private static async Task AssertUnauthorized(HttpResponseMessage r, string? sentToken = null)
    {
        var text = await r.Content.ReadAsStringAsync();
        await AssertProblem(r, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains(r.Headers.WwwAuthenticate, h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (sentToken is { Length: >= 16 }) Assert.DoesNotContain(sentToken.Replace("Bearer ", ""), text);
    }

    /// <summary>Sends a request with a raw Authorization header value (or none), to a read and a write route.</summary>
    private async Task AssertRefusedWith(string? authorization)
    {
        using var c = app.Client();
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
                 {
                     (HttpMethod.Get, "/provider/v1/organizations", null),
                     (HttpMethod.Post, "/provider/v1/serviceProviders", new { name = "intruder" }),
                     (HttpMethod.Post, "/provider/v1/organizations", new { name = "intruder", admin = new { username = Unique(), password = Password } }),
                 })
        {
            using var req = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
            if (authorization is not null) req.Headers.TryAddWithoutValidation("Authorization", authorization);
            await AssertUnauthorized(await c.SendAsync(req), authorization);
        }
    }

    private async Task<JsonElement> GetOrgAsync(long id, HttpClient? provider = null)
    {
        using var own = provider is null ? app.Provider() : null;
        return await (await (provider ?? own)!.GetAsync($"/provider/v1/organizations/{id}")).AssertOk();
    }

    private async Task<JsonElement> ListOrgsAsync(HttpClient? provider = null, string? search = null)
    {
        using var own = provider is null ? app.Provider() : null;
        var url = "/provider/v1/organizations" + (search is null ? "" : "?search=" + Uri.EscapeDataString(search));
        return await (await (provider ?? own)!.GetAsync(url)).AssertOk();
    }

    private static HttpRequestMessage Patch(string url, object body) => new(HttpMethod.Patch, url) { Content = Json(body) };

    private async Task<JsonElement> CreateNamedOrgAsync(string name, HttpClient? provider = null)
    {
        using var own = provider is null ? app.Provider() : null;
        return await (await (provider ?? own)!.PostAsync("/provider/v1/organizations",
            Json(new { name, admin = new { username = Unique("admin"), password = Password } }))).AssertOk(HttpStatusCode.Created);
    }

    private static StringContent Disable(string reason = "TERMS_VIOLATION", string note = "reported abuse") => Json(new { reason, note });

    private static string KeyUrl(long orgId, long keyId, string action) => $"/provider/v1/organizations/{orgId}/apiKeys/{keyId}/{action}";

    private static JsonElement KeyOf(JsonElement org, long keyId) =>
        org.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == keyId);

    private async Task<JsonElement[]> AllAuditAsync(long orgId)
    {
        using var op = app.Provider();
        var page = await (await op.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).AssertOk();
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);
        return page.GetProperty("items").EnumerateArray().ToArray();
    }

    // ---------- authentication ----------

    [Fact]
    public async Task Request_without_Authorization_header_is_401_problem_with_Bearer_challenge() =>
        await AssertRefusedWith(null);

    [Fact]
    public async Task Request_with_malformed_token_is_401()
    {
        await AssertRefusedWith("Bearer not-a-token");
        await AssertRefusedWith("Bearer kgp_short");
        await AssertRefusedWith("Bearer " + app.OperatorToken + "x");
        await AssertRefusedWith("Bearer " + app.OperatorToken[..10] + "!" + app.OperatorToken[11..]);
        await AssertRefusedWith("Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("operator:" + app.OperatorToken)));
        await AssertRefusedWith(app.OperatorToken); // no scheme
        await AssertRefusedWith("Bearer ");
    }

    [Fact]
    public async Task Request_with_well_formed_token_but_bad_checksum_is_401()
    {
        var t = app.OperatorToken;
        var lastChanged = t[..^1] + (t[^1] == 'A' ? 'B' : 'A');
        var bodyChanged = t[..10] + (t[10] == 'A' ? 'B' : 'A') + t[11..];
        await AssertRefusedWith("Bearer " + lastChanged);
        await AssertRefusedWith("Bearer " + bodyChanged);
    }

    [Fact]
    public async Task Request_with_well_formed_unknown_token_is_401()
    {
        await AssertRefusedWith("Bearer " + ProviderTokens.Generate(ProviderTokens.OperatorPrefix));
        await AssertRefusedWith("Bearer " + ProviderTokens.Generate(ProviderTokens.ServiceProviderPrefix));
    }

    [Fact]
    public async Task Creating_a_service_provider_returns_201_with_a_kgs_token_that_works()
    {
        Assert.StartsWith("kgp_", app.OperatorToken);
        using var op = app.Provider();
        var name = "SP " + Guid.NewGuid().ToString("N")[..10];
        var r = await op.PostAsync("/provider/v1/serviceProviders", Json(new { name }));
        var body = await r.AssertOk(HttpStatusCode.Created);
        AssertProperties(body, "id", "name", "token");
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.Equal(name, body.GetProperty("name").GetString());
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith("kgs_", token);
        Assert.Matches("^kgs_[A-Za-z0-9]{43,}$", token); // at least 256 bits of base62

        using var sp = app.Provider(token);
        var list = await (await sp.GetAsync("/provider/v1/organizations")).AssertOk();
        Assert.Equal(0, list.GetArrayLength());
        await CreateNamedOrgAsync("Org of " + name, sp);

        var other = await CreateServiceProviderAsync();
        Assert.NotEqual(token, other.Token);
    }

    [Fact]
    public async Task Service_provider_token_is_never_returned_again_and_stored_only_as_its_hash()
    {
        var sp = await CreateServiceProviderAsync();
        using var spClient = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: spClient);
        using var op = app.Provider();

        foreach (var text in new[]
                 {
                     await (await op.GetAsync($"/provider/v1/organizations/{org.Id}")).Content.ReadAsStringAsync(),
                     await (await spClient.GetAsync($"/provider/v1/organizations/{org.Id}")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync("/provider/v1/organizations")).Content.ReadAsStringAsync(),
                     await (await spClient.GetAsync("/provider/v1/organizations")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync($"/provider/v1/serviceProviders/{sp.Id}")).Content.ReadAsStringAsync(),
                 })
        {
            Assert.DoesNotContain(sp.Token, text);
            Assert.DoesNotContain(sp.Token[4..20], text);
            Assert.DoesNotContain("\"token\"", text);
        }

        // Through the application's own database context (SQLite and PostgreSQL alike).
        var tokenBytes = Encoding.UTF8.GetBytes(sp.Token);
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.ProviderTokens.AsNoTracking().ToListAsync();
            var row = Assert.Single(rows, t => t.ServiceProviderId == sp.Id);
            Assert.Equal(SHA256.HashData(tokenBytes), row.Hash);
            foreach (var t in rows)
            {
                Assert.DoesNotContain(sp.Token, t.Name);
                Assert.True(t.Hash.AsSpan().IndexOf(tokenBytes) < 0);
            }
        }

        if (!KeygateApp.OnPostgres)
        {
            // And the raw SQLite file, opened read-only, never holds the token string in any ProviderTokens row.
            await using var c = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = app.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT * FROM ProviderTokens";
            await using var reader = await cmd.ExecuteReaderAsync();
            var count = 0;
            while (await reader.ReadAsync())
            {
                count++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.IsDBNull(i)) continue;
                    var value = reader.GetValue(i);
                    var bytes = value as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
                    Assert.True(bytes.AsSpan().IndexOf(tokenBytes) < 0, $"column {reader.GetName(i)} holds the token");
                    Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(sp.Token[4..30])) < 0, $"column {reader.GetName(i)} holds part of the token");
                }
            }
            Assert.True(count >= 2); // the operator's and this service provider's
        }
    }

    // ---------- service-provider isolation ----------

    [Fact]
    public async Task Service_provider_creating_an_org_gets_its_own_service_provider_id()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var created = await CreateNamedOrgAsync("Org " + Guid.NewGuid().ToString("N")[..8], c);
        Assert.Equal(sp.Id, created.GetProperty("serviceProviderId").GetInt64());

        var explicitOwn = await (await c.PostAsync("/provider/v1/organizations", Json(new
        {
            name = "Explicit", serviceProviderId = sp.Id, admin = new { username = Unique(), password = Password },
        }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, explicitOwn.GetProperty("serviceProviderId").GetInt64());

        var viaOperator = await GetOrgAsync(created.GetProperty("id").GetInt64());
        Assert.Equal(sp.Id, viaOperator.GetProperty("serviceProviderId").GetInt64());
    }

    [Fact]
    public async Task Service_provider_lists_only_its_own_orgs()
    {
        var a = await CreateServiceProviderAsync();
        var b = await CreateServiceProviderAsync();
        using var ca = app.Provider(a.Token);
        using var cb = app.Provider(b.Token);
        var a1 = await app.CreateOrgAsync(provider: ca);
        var a2 = await app.CreateOrgAsync(subscribe: false, provider: ca);
        var b1 = await app.CreateOrgAsync(provider: cb);
        var op1 = await app.CreateOrgAsync();

        var listA = (await ListOrgsAsync(ca)).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(new[] { a1.Id, a2.Id }, listA);
        var listB = (await ListOrgsAsync(cb)).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(new[] { b1.Id }, listB);
        var all = (await ListOrgsAsync()).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToHashSet();
        Assert.Superset(new HashSet<long> { a1.Id, a2.Id, b1.Id, op1.Id }, all);
    }

    [Fact]
    public async Task Service_provider_gets_404_for_every_route_on_another_providers_or_the_operators_org()
    {
        var a = await CreateServiceProviderAsync();
        var b = await CreateServiceProviderAsync();
        using var ca = app.Provider(a.Token);
        using var cb = app.Provider(b.Token);
        var ownedByB = await app.CreateOrgAsync(provider: cb);
        var ownedByOperator = await app.CreateOrgAsync();
        var admin = Unique("sneaky");

        foreach (var org in new[] { ownedByB, ownedByOperator })
        {
            var baseUrl = $"/provider/v1/organizations/{org.Id}";
            await AssertProblem(await ca.GetAsync(baseUrl), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.SendAsync(Patch(baseUrl, new { name = "Hijacked" })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PutAsync(baseUrl + "/subscription", Json(new { enabled = false, expiresAt = (long?)null })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PutAsync(baseUrl + "/limits", Json(new { sandboxDailyQuota = 1 })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable()), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(baseUrl + "/admins", Json(new { username = admin, password = Password, role = "SUPER_ADMIN" })),
                HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.GetAsync(baseUrl + "/audit"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");

            // Nothing changed.
            var view = await GetOrgAsync(org.Id);
            Assert.NotEqual("Hijacked", view.GetProperty("name").GetString());
            Assert.True(view.GetProperty("subscription").GetProperty("enabled").GetBoolean());
            Assert.Equal(100, view.GetProperty("limits").GetProperty("sandboxDailyQuota").GetInt32());
            Assert.Equal("ENABLED", KeyOf(view, org.KeyId).GetProperty("status").GetString());
            Assert.DoesNotContain(await AllAuditAsync(org.Id), e => e.GetProperty("detail").GetString()!.Contains(admin));
        }

        // The admin was never created: the username is still free.
        await CreateNamedOrgAsyncWithAdmin(admin);
    }

    private async Task CreateNamedOrgAsyncWithAdmin(string username)
    {
        using var op = app.Provider();
        await (await op.PostAsync("/provider/v1/organizations", Json(new { name = "Free name", admin = new { username, password = Password } })))
            .AssertOk(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Service_provider_token_gets_403_creating_service_providers()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        await AssertProblem(await c.PostAsync("/provider/v1/serviceProviders", Json(new { name = "Rogue" })), HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task Service_provider_disables_then_enables_its_own_orgs_key()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);

        var disabled = await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        Assert.Equal("DISABLED", disabled.GetProperty("status").GetString());
        Assert.Equal("OTHER", disabled.GetProperty("disabledReason").GetString());
        Assert.Equal(0, disabled.GetProperty("lastModifiedBy").GetProperty("id").GetInt64());
        Assert.Equal(sp.Name, disabled.GetProperty("lastModifiedBy").GetProperty("name").GetString());

        var enabled = await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        Assert.Equal("ENABLED", enabled.GetProperty("status").GetString());
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(sp.Name, enabled.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id, c), org.KeyId).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Service_provider_cannot_lift_the_operators_disable_but_the_operator_can_lift_a_service_providers()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        using var op = app.Provider();
        var org = await app.CreateOrgAsync(provider: c);

        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable())).AssertOk();
        await AssertProblem(await c.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null), HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var key = KeyOf(await GetOrgAsync(org.Id), org.KeyId);
        Assert.Equal("DISABLED", key.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", key.GetProperty("disabledReason").GetString());
        var key2 = await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org));
        await key2.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        // The operator lifts its own; then the provider disables and the operator lifts that too.
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        var lifted = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        Assert.Equal("ENABLED", lifted.GetProperty("status").GetString());
        Assert.Equal(OperatorName, lifted.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertOk();
    }

    // ---------- organizations ----------

    [Fact]
    public async Task Creating_an_org_returns_201_with_the_contract_shape()
    {
        using var op = app.Provider();
        var name = "Shape " + Guid.NewGuid().ToString("N")[..8];
        var r = await op.PostAsync("/provider/v1/organizations", Json(new { name, admin = new { username = Unique(), password = Password } }));
        var org = await r.AssertOk(HttpStatusCode.Created);

        AssertProperties(org, "id", "name", "serviceProviderId", "baseUrl", "subscription", "limits", "endSessionsOnKeyChange", "keys");
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
    public async Task Provider_responses_never_contain_key_values()
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
    public async Task Creating_an_org_with_a_taken_username_is_409_and_creates_nothing()
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
    public async Task Creating_an_org_with_unknown_fields_is_400_with_errors()
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
    public async Task Creating_an_org_with_wrong_types_is_400()
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
    public async Task Creating_an_org_without_admin_is_400()
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
    public async Task Creating_an_org_as_text_plain_is_415()
    {
        using var op = app.Provider();
        var body = $$$"""{"name":"Plain","admin":{"username":"{{{Unique()}}}","password":"{{{Password}}}"}}""";
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", new StringContent(body, Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "Form" })),
            HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task Creating_an_org_with_malformed_json_is_400()
    {
        using var op = app.Provider();
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("{\"name\":\"Broken\",\"admin\":{")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("{name:'x'}")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", RawJson("")), HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task Non_numeric_or_unknown_org_id_is_404()
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
    public async Task Listing_orgs_with_search_filters_by_name()
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
    public async Task Patching_name_baseUrl_and_endSessionsOnKeyChange_returns_200_and_is_reflected()
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
    public async Task Patching_an_invalid_baseUrl_is_400_and_changes_nothing()
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

    // ---------- limits ----------

    [Fact]
    public async Task Putting_partial_limits_keeps_the_other_values()
    {
        var org = await app.CreateOrgAsync(defaultLimits: true);
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";

        var l1 = await (await op.PutAsync(url, Json(new { rates = new { heavy = new { perMinute = 3 } } }))).AssertOk();
        AssertProperties(l1, "callThreshold", "rates", "sandboxDailyQuota");
        Assert.Equal(3, l1.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());
        Assert.Equal(4, l1.GetProperty("rates").GetProperty("heavy").GetProperty("perHour").GetInt32());
        Assert.Equal(2, l1.GetProperty("rates").GetProperty("light").GetProperty("perSecond").GetInt32());
        Assert.Equal(100000, l1.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(100, l1.GetProperty("sandboxDailyQuota").GetInt32());

        var l2 = await (await op.PutAsync(url, Json(new { callThreshold = new { calls = 500 } }))).AssertOk();
        Assert.Equal(500, l2.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(86400, l2.GetProperty("callThreshold").GetProperty("windowSeconds").GetInt64());
        Assert.Equal(80, l2.GetProperty("callThreshold").GetProperty("warnAtPercent").GetInt32());
        Assert.Equal(3, l2.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());

        var l3 = await (await op.PutAsync(url, Json(new { sandboxDailyQuota = 7, rates = new { medium = new { perHour = 250 } } }))).AssertOk();
        Assert.Equal(7, l3.GetProperty("sandboxDailyQuota").GetInt32());
        Assert.Equal(250, l3.GetProperty("rates").GetProperty("medium").GetProperty("perHour").GetInt32());
        Assert.Equal(1, l3.GetProperty("rates").GetProperty("medium").GetProperty("perSecond").GetInt32());
        Assert.Equal(500, l3.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(3, l3.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());

        var empty = await (await op.PutAsync(url, RawJson("{}"))).AssertOk();
        Assert.Equal(l3.GetRawText(), empty.GetRawText());
        Assert.Equal(l3.GetRawText(), (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }

    [Fact]
    public async Task Putting_zero_or_negative_limits_is_400_with_errors_and_changes_nothing()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";
        var before = (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText();

        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { calls = 0 } })), "callThreshold.calls");
        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { windowSeconds = -60 } })), "callThreshold.windowSeconds");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perSecond = -1 }, heavy = new { perHour = 0 } }, sandboxDailyQuota = 5 })),
            "rates.light.perSecond", "rates.heavy.perHour");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { medium = new { perSecond = 0 } } })), "rates.medium.perSecond");
        await AssertInvalid(await op.PutAsync(url, Json(new { sandboxDailyQuota = -1 })), "sandboxDailyQuota");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perSecond = "fast" } } })));
        Assert.Equal(before, (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }

    [Fact]
    public async Task Putting_limits_with_an_unknown_nested_field_is_400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";
        var before = (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText();
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perMinute = 5 } } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { calls = 5, bogus = 1 } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { extreme = new { perSecond = 5 } } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { sandboxDailyQuota = 5, dailyQuota = 5 })));
        Assert.Equal(before, (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }

    // ---------- admins ----------

    [Fact]
    public async Task Creating_super_admin_and_read_only_admins_returns_201_and_they_can_log_in()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        var key = await app.KeyValueAsync(org);
        using var op = app.Provider();
        var super = Unique("super");
        var reader = Unique("reader");
        var r1 = await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = super, password = "super password 1", role = "SUPER_ADMIN" }));
        Assert.DoesNotContain("super password 1", await r1.Content.ReadAsStringAsync());
        await r1.AssertOk(HttpStatusCode.Created);
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = reader, password = "reader password 1", role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);

        var superLogin = await app.LoginAsync(super, "super password 1", key);
        await superLogin.AssertOk();
        var readerLogin = await app.LoginAsync(reader, "reader password 1", key);
        await readerLogin.AssertOk();

        using var superSession = app.SessionClient(SessionIdOf(superLogin)!);
        using var readerSession = app.SessionClient(SessionIdOf(readerLogin)!);
        var keys = await (await readerSession.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(org.KeyId, keys[0].GetProperty("id").GetInt64());
        await (await readerSession.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await superSession.GetAsync("/api/v1/apiKeys")).AssertOk();
    }

    [Fact]
    public async Task Creating_an_admin_with_an_unknown_role_is_400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var username = Unique("god");
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "GOD" })), "role");
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password })));
        await AssertInvalid(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = 0 })));
        // Nothing was created: the username is still free.
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = Password, role = "READ_ONLY" })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
    }

    [Fact]
    public async Task Creating_an_admin_is_recorded_in_the_orgs_audit_log()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);
        var username = Unique("audited");
        var since = (await AllAuditAsync(org.Id)).Length;
        await (await c.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username, password = "audited password", role = "SUPER_ADMIN" })))
            .AssertOk(HttpStatusCode.Created);
        var events = await AllAuditAsync(org.Id);
        var e = Assert.Single(events.Skip(since), x => x.GetProperty("action").GetString() == "admin.create");
        Assert.Equal("SUCCESS", e.GetProperty("outcome").GetString());
        Assert.Contains(username, e.GetProperty("detail").GetString());
        Assert.Contains(sp.Name, e.GetProperty("actor").GetString());
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), e.GetProperty("time").GetInt64());
        Assert.DoesNotContain(events, x => x.GetRawText().Contains("audited password"));

        // The service provider reads the same log.
        var own = await (await c.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        Assert.Contains(own.GetProperty("items").EnumerateArray(), x => x.GetProperty("action").GetString() == "admin.create" && x.GetProperty("detail").GetString()!.Contains(username));
    }

    // ---------- staff ----------

    [Fact]
    public async Task Operator_creates_staff_with_and_without_a_service_provider()
    {
        var sp = await CreateServiceProviderAsync();
        using var op = app.Provider();
        var own = Unique("staff");
        var r1 = await (await op.PostAsync("/provider/v1/staff", Json(new { username = own, password = Password }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(own, r1.GetProperty("username").GetString());
        Assert.Equal(JsonValueKind.Null, r1.GetProperty("serviceProviderId").ValueKind);
        Assert.DoesNotContain(Password, r1.GetRawText());

        var theirs = Unique("staff");
        var r2 = await (await op.PostAsync("/provider/v1/staff", Json(new { username = theirs, password = Password, serviceProviderId = sp.Id }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, r2.GetProperty("serviceProviderId").GetInt64());
        Assert.NotEqual(r1.GetProperty("id").GetInt64(), r2.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Service_provider_creates_staff_for_itself_and_naming_another_provider_is_404()
    {
        var sp = await CreateServiceProviderAsync();
        var other = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var implied = await (await c.PostAsync("/provider/v1/staff", Json(new { username = Unique("staff"), password = Password }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, implied.GetProperty("serviceProviderId").GetInt64());
        var named = await (await c.PostAsync("/provider/v1/staff", Json(new { username = Unique("staff"), password = Password, serviceProviderId = sp.Id }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, named.GetProperty("serviceProviderId").GetInt64());

        var username = Unique("staff");
        await AssertProblem(await c.PostAsync("/provider/v1/staff", Json(new { username, password = Password, serviceProviderId = other.Id })),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // Nothing was created under that name.
        using var op = app.Provider();
        await (await op.PostAsync("/provider/v1/staff", Json(new { username, password = Password }))).AssertOk(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Staff_username_taken_by_an_org_admin_is_409_and_vice_versa()
    {
        var org = await app.CreateOrgAsync(subscribe: false);
        using var op = app.Provider();
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = org.Username, password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = org.Username.ToUpperInvariant(), password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");

        var staff = Unique("staff");
        await (await op.PostAsync("/provider/v1/staff", Json(new { username = staff, password = Password }))).AssertOk(HttpStatusCode.Created);
        await AssertProblem(await op.PostAsync("/provider/v1/staff", Json(new { username = staff, password = Password })), HttpStatusCode.Conflict, "USERNAME_TAKEN");
        var before = (await ListOrgsAsync()).GetArrayLength();
        await AssertProblem(await op.PostAsync("/provider/v1/organizations", Json(new { name = "Clash", admin = new { username = staff.ToUpperInvariant(), password = Password } })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
        await AssertProblem(await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = staff, password = Password, role = "READ_ONLY" })),
            HttpStatusCode.Conflict, "USERNAME_TAKEN");
        Assert.Equal(before, (await ListOrgsAsync()).GetArrayLength());
    }

    // ---------- disable / enable ----------

    [Fact]
    public async Task Disabling_a_key_returns_the_provider_key_view_without_a_value()
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
    public async Task Disabling_an_already_disabled_key_is_a_no_op_200()
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
    public async Task Enabling_returns_200_enabled_and_repeating_is_a_no_op()
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
    public async Task Disabling_with_reason_THRESHOLD_EXCEEDED_from_a_person_is_400()
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
    public async Task Disabling_without_a_reason_is_400()
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
    public async Task Disabling_or_enabling_an_unknown_key_id_is_404()
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
    public async Task Legacy_key_list_shows_a_provider_disable_with_status_reason_and_provider_as_modifier()
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

    // ---------- audit ----------

    [Fact]
    public async Task Audit_pages_oldest_first_with_a_cursor_until_next_is_null()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        for (var i = 0; i < 3; i++)
        {
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER", $"round {i}"))).AssertOk();
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        }
        var all = await AllAuditAsync(org.Id);
        Assert.True(all.Length > 5, $"expected more than 5 events, got {all.Length}");

        var first = await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=2")).AssertOk();
        AssertProperties(first, "items", "next");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, first.GetProperty("next").ValueKind);

        var seen = new List<long>();
        var page = first;
        var pages = 1;
        while (true)
        {
            var items = page.GetProperty("items").EnumerateArray().ToArray();
            Assert.InRange(items.Length, 1, 2);
            seen.AddRange(items.Select(x => x.GetProperty("id").GetInt64()));
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) break;
            Assert.Equal(2, items.Length);
            var next = page.GetProperty("next").GetString()!;
            page = await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=2&after={Uri.EscapeDataString(next)}")).AssertOk();
            Assert.True(++pages <= 100, "paging does not end");
        }
        Assert.Equal(all.Select(x => x.GetProperty("id").GetInt64()), seen);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal((all.Length + 1) / 2, pages);

        var times = all.Select(x => x.GetProperty("time").GetInt64()).ToArray();
        Assert.Equal(times.Order(), times);
        var disables = all.Where(x => x.GetProperty("action").GetString() == "key.disable").ToArray();
        Assert.Equal(3, disables.Length);
        Assert.Equal(3, all.Count(x => x.GetProperty("action").GetString() == "key.enable"));
    }

    [Fact]
    public async Task Audit_with_invalid_limit_or_cursor_is_400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/audit";
        await AssertInvalid(await op.GetAsync(url + "?limit=0"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=101"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=-1"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=ten"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?after=abc"), "after");
        await (await op.GetAsync(url + "?limit=1")).AssertOk();
        await (await op.GetAsync(url + "?limit=100")).AssertOk();
    }

    [Fact]
    public async Task Audit_items_carry_the_contract_fields_with_fake_clock_times()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        app.Clock.Advance(TimeSpan.FromSeconds(42));
        var disabledAt = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("TERMS_VIOLATION", "audit me"))).AssertOk();

        var all = await AllAuditAsync(org.Id);
        foreach (var item in all)
        {
            AssertProperties(item, "id", "time", "actor", "action", "keyId", "outcome", "clientAddress", "detail");
            Assert.True(item.GetProperty("id").GetInt64() > 0);
            Assert.Equal(JsonValueKind.Number, item.GetProperty("time").ValueKind);
            Assert.False(string.IsNullOrEmpty(item.GetProperty("actor").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("action").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("outcome").GetString()));
            Assert.Equal(JsonValueKind.String, item.GetProperty("clientAddress").ValueKind);
            Assert.Equal(JsonValueKind.String, item.GetProperty("detail").ValueKind);
            Assert.InRange(item.GetProperty("time").GetInt64(), disabledAt - 42, disabledAt);
        }
        var created = all.First(x => x.GetProperty("action").GetString() == "organization.create");
        Assert.Equal(JsonValueKind.Null, created.GetProperty("keyId").ValueKind);
        Assert.Equal(disabledAt - 42, created.GetProperty("time").GetInt64());
        var disable = Assert.Single(all, x => x.GetProperty("action").GetString() == "key.disable");
        Assert.Equal(disabledAt, disable.GetProperty("time").GetInt64());
        Assert.Equal(org.KeyId, disable.GetProperty("keyId").GetInt64());
        Assert.Equal("SUCCESS", disable.GetProperty("outcome").GetString());
        Assert.Contains(OperatorName, disable.GetProperty("actor").GetString());
        Assert.Contains("TERMS_VIOLATION", disable.GetProperty("detail").GetString());
    }
}
