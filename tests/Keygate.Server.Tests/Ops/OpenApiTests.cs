using System.Net;
using System.Text.Json;

namespace Keygate.Tests;

/// <summary>
/// The OpenAPI document describes every operation completely (issue 12): summary, operationId, security, a request
/// body for writes, and error responses with their body. scripts/lint-openapi.sh lints the same document in CI.
/// </summary>
public sealed class OpenApiTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    // Writes that take no body: the action is the whole request (enable, regenerate, the no-op activations).
    private static readonly HashSet<string> Bodyless = ["EnableKey", "RegenerateKey", "Activate", "ForcedActivate", "RotateSigningKey", "ResetAdminPassword", "ResumeOrganization"];
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private async Task<JsonElement> DocumentAsync()
    {
        using var c = app.Client();
        return await (await c.GetAsync("/openapi/v1.json")).AssertOk(HttpStatusCode.OK);
    }

    private static IEnumerable<(string Path, string Method, JsonElement Op)> Operations(JsonElement doc) =>
        doc.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()
            .Where(m => Methods.Contains(m.Name)).Select(m => (p.Name, m.Name, m.Value)));

    [Fact]
    public async Task EveryOperationHasASummaryAnOperationIdSecurityAndAnErrorResponse()
    {
        var doc = await DocumentAsync();
        var ops = Operations(doc).ToList();
        Assert.True(ops.Count >= 29, $"only {ops.Count} operations");
        var schemes = doc.GetProperty("components").GetProperty("securitySchemes");
        foreach (var (path, method, op) in ops)
        {
            var where = $"{method.ToUpperInvariant()} {path}";
            Assert.False(string.IsNullOrWhiteSpace(op.TryGetProperty("summary", out var s) ? s.GetString() : null), $"{where}: no summary");
            Assert.False(string.IsNullOrWhiteSpace(op.TryGetProperty("operationId", out var id) ? id.GetString() : null), $"{where}: no operationId");
            Assert.True(op.TryGetProperty("security", out var security) && security.GetArrayLength() > 0, $"{where}: no security");
            foreach (var requirement in security.EnumerateArray())
                foreach (var scheme in requirement.EnumerateObject())
                    Assert.True(schemes.TryGetProperty(scheme.Name, out _), $"{where}: undeclared scheme {scheme.Name}");
            var errors = op.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('4')).ToList();
            Assert.True(errors.Count > 0, $"{where}: no 4xx response");
            foreach (var e in errors) Assert.True(e.Value.TryGetProperty("content", out _), $"{where}: {e.Name} without a body schema");
        }
    }

    [Fact]
    public async Task EveryWriteOperationDocumentsItsRequestBody()
    {
        foreach (var (path, method, op) in Operations(await DocumentAsync()).Where(o => o.Method is "post" or "put" or "patch"))
        {
            if (Bodyless.Contains(op.GetProperty("operationId").GetString()!)) continue;
            Assert.True(op.TryGetProperty("requestBody", out var body) && body.GetProperty("content").EnumerateObject().Any(),
                $"{method.ToUpperInvariant()} {path}: no request body schema");
        }
    }

    [Fact]
    public async Task SessionAndProviderRoutesNameTheirSchemes()
    {
        var doc = await DocumentAsync();
        var schemes = doc.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("cookie", schemes.GetProperty("session").GetProperty("in").GetString());
        Assert.Equal("JSESSIONID", schemes.GetProperty("session").GetProperty("name").GetString());
        Assert.Equal("bearer", schemes.GetProperty("providerToken").GetProperty("scheme").GetString());
        foreach (var (path, _, op) in Operations(doc))
        {
            var names = op.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name)).ToList();
            if (path.StartsWith("/provider/v1", StringComparison.Ordinal)) Assert.Equal(["providerToken"], names);
            else if (path.StartsWith("/api/v1/apiKeys", StringComparison.Ordinal)) Assert.Equal(["session"], names);
        }
    }

    [Fact]
    public async Task TheGatewayIsDocumentedWithItsRefusalsAndRateHeaders()
    {
        var doc = await DocumentAsync();
        static bool HasHeader(JsonElement response, string name) => response.TryGetProperty("headers", out var h) && h.TryGetProperty(name, out _);
        var gateway = doc.GetProperty("paths").GetProperty("/api/v1/{path}");
        foreach (var method in Methods)
        {
            var responses = gateway.GetProperty(method).GetProperty("responses");
            var refusals = new List<(string, string)>
            {
                ("401", "SESSION_NOT_VALID"), ("403", "API_KEY_DISABLED"), ("403", "SUBSCRIPTION_EXPIRED"), ("403", "ACCESS_DENIED"),
                ("404", "RESOURCE_NOT_FOUND"), ("429", "RATE_LIMIT_EXCEEDED"), ("502", "UPSTREAM_UNAVAILABLE"), ("504", "UPSTREAM_TIMEOUT"),
            };
            if (method is "post" or "put" or "patch") refusals.AddRange([("413", "REQUEST_TOO_LARGE"), ("415", "UNSUPPORTED_MEDIA_TYPE")]);
            foreach (var (status, code) in refusals)
                Assert.Contains(code, responses.GetProperty(status).GetProperty("description").GetString());
            foreach (var status in new[] { "200", "429", "502", "504" })
                foreach (var header in new[] { "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset" })
                    Assert.True(HasHeader(responses.GetProperty(status), header), $"{method} {status}: no {header}");
            Assert.True(HasHeader(responses.GetProperty("429"), "Retry-After"));
        }
        var authorized = doc.GetProperty("paths").GetProperty("/gateway/v1/authorize").GetProperty("get").GetProperty("responses").GetProperty("200");
        foreach (var header in new[] { "Authorization", "X-Keygate-Org-Id", "X-Keygate-Admin-Id", "X-RateLimit-Remaining" })
            Assert.True(HasHeader(authorized, header), $"forward-auth 200: no {header}");
    }
}
