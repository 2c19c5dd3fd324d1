using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// What the provider API tests (contract B, errors as contract C) share: the app they run against, service
/// providers, orgs, problem-details checks and the audit log. Each resource has its own test class in ProviderApi/.
/// </summary>
public abstract class ProviderApiTestBase(KeygateApp app)
{
    protected readonly KeygateApp app = app;

    protected sealed record Sp(long Id, string Name, string Token);

    protected string OperatorName => app.Service<IOptions<KeygateOptions>>().Value.OperatorName;

    protected async Task<Sp> CreateServiceProviderAsync(string? name = null)
    {
        using var op = app.Provider();
        name ??= "SP " + Guid.NewGuid().ToString("N")[..10];
        var body = await (await op.PostAsync("/provider/v1/serviceProviders", Json(new { name }))).AssertOk(HttpStatusCode.Created);
        return new Sp(body.GetProperty("id").GetInt64(), body.GetProperty("name").GetString()!, body.GetProperty("token").GetString()!);
    }

    /// <summary>Contract C: RFC 9457 problem+json with type, title, status, detail, code and traceId.</summary>
    protected static async Task<JsonElement> AssertProblem(HttpResponseMessage r, HttpStatusCode status, string code)
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

    protected static async Task<JsonElement> AssertInvalid(HttpResponseMessage r, params string[] fields)
    {
        var json = await AssertProblem(r, HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.True(json.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object && errors.EnumerateObject().Any(),
            $"expected per-field errors: {json}");
        foreach (var f in fields) Assert.True(errors.TryGetProperty(f, out _), $"expected an error for {f}: {errors}");
        return json;
    }

    protected static void AssertProperties(JsonElement e, params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

    protected async Task<JsonElement> GetOrgAsync(long id, HttpClient? provider = null)
    {
        using var own = provider is null ? app.Provider() : null;
        return await (await (provider ?? own)!.GetAsync($"/provider/v1/organizations/{id}")).AssertOk();
    }

    protected async Task<JsonElement> ListOrgsAsync(HttpClient? provider = null, string? search = null)
    {
        using var own = provider is null ? app.Provider() : null;
        var url = "/provider/v1/organizations" + (search is null ? "" : "?search=" + Uri.EscapeDataString(search));
        return await (await (provider ?? own)!.GetAsync(url)).AssertOk();
    }

    protected static HttpRequestMessage Patch(string url, object body) => new(HttpMethod.Patch, url) { Content = Json(body) };

    protected async Task<JsonElement> CreateNamedOrgAsync(string name, HttpClient? provider = null)
    {
        using var own = provider is null ? app.Provider() : null;
        return await (await (provider ?? own)!.PostAsync("/provider/v1/organizations",
            Json(new { name, admin = new { username = Unique("admin"), password = Password } }))).AssertOk(HttpStatusCode.Created);
    }

    protected static StringContent Disable(string reason = "TERMS_VIOLATION", string note = "reported abuse") => Json(new { reason, note });

    protected static string KeyUrl(long orgId, long keyId, string action) => $"/provider/v1/organizations/{orgId}/apiKeys/{keyId}/{action}";

    protected static JsonElement KeyOf(JsonElement org, long keyId) =>
        org.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == keyId);

    protected async Task<JsonElement[]> AllAuditAsync(long orgId)
    {
        using var op = app.Provider();
        var page = await (await op.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).AssertOk();
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);
        return page.GetProperty("items").EnumerateArray().ToArray();
    }
    protected async Task CreateNamedOrgAsyncWithAdmin(string username)
    {
        using var op = app.Provider();
        await (await op.PostAsync("/provider/v1/organizations", Json(new { name = "Free name", admin = new { username, password = Password } })))
            .AssertOk(HttpStatusCode.Created);
    }
}
