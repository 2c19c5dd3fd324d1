using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Keygate.Tests;

/// <summary>The sample upstream of contract A7: its API, and that it trusts Keygate's identity token and nothing else.</summary>
public sealed class SampleUpstreamTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task AValidTokenListsCreatesGetsUpdatesAndDeletesAProvisioningUrl()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var c = host.Client(host.Mint("101"));
        Assert.Equal(0, (await Json(await c.GetAsync("/api/v1/provUrl"))).GetArrayLength());

        var created = await Json(await c.PostAsJsonAsync("/api/v1/provUrl", new
        {
            name = "AWS branch", desc = "first", provUrlType = "CLOUD", provUrlData = new { cloudProviderType = "AWS", formFactor = "SMALL" },
        }));
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal("AWS branch", created.GetProperty("name").GetString());
        Assert.EndsWith("/api/v1/provUrl?name=AWS%20branch", created.GetProperty("provUrl").GetString());
        Assert.Equal("CLOUD", created.GetProperty("provUrlType").GetString());
        Assert.Equal("NOT_DEPLOYED", created.GetProperty("status").GetString());
        Assert.Equal("AWS", created.GetProperty("provUrlData").GetProperty("cloudProviderType").GetString());
        Assert.Equal(101, created.GetProperty("provUrlData").GetProperty("orgId").GetInt64());
        Assert.Equal("admin@org101.example", created.GetProperty("lastModUid").GetProperty("name").GetString());
        Assert.True(created.GetProperty("lastModTime").GetInt64() > 1_700_000_000);

        Assert.Equal("first", (await Json(await c.GetAsync($"/api/v1/provUrl/{id}"))).GetProperty("desc").GetString());
        var updated = await Json(await c.PutAsJsonAsync($"/api/v1/provUrl/{id}", new { id, desc = "second" }));
        Assert.Equal(("AWS branch", "second", "AWS"), (updated.GetProperty("name").GetString(), updated.GetProperty("desc").GetString(),
            updated.GetProperty("provUrlData").GetProperty("cloudProviderType").GetString()));
        Assert.Equal(id, (await Json(await c.GetAsync("/api/v1/provUrl?search=aws")))[0].GetProperty("id").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync($"/api/v1/provUrl/{id}")).StatusCode);
        var gone = await Json(await c.GetAsync($"/api/v1/provUrl/{id}"), HttpStatusCode.NotFound);
        Assert.Equal("RESOURCE_NOT_FOUND", gone.GetProperty("code").GetString());
    }

    [Fact]
    public async Task ProvisioningUrlsRefuseAMissingNameADuplicateAnUnknownTypeAndAnotherOrgsTemplate()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var c = host.Client(host.Mint("102"));
        await Json(await c.PostAsJsonAsync("/api/v1/provUrl", new { name = "Branch" }));
        async Task<string?> Refusal(object body) =>
            (await Json(await c.PostAsJsonAsync("/api/v1/provUrl", body), HttpStatusCode.BadRequest)).GetProperty("code").GetString();
        Assert.Equal("INVALID_INPUT_ARGUMENT", await Refusal(new { desc = "no name" }));
        Assert.Equal("DUPLICATE_ITEM", await Refusal(new { name = "branch" }));
        Assert.Equal("INVALID_INPUT_ARGUMENT", await Refusal(new { name = "Other", provUrlType = "SATELLITE" }));
        Assert.Equal("INVALID_INPUT_ARGUMENT", await Refusal(new { name = "Cloud", provUrlType = "CLOUD" }));

        using var other = host.Client(host.Mint("103"));
        var theirs = (await Json(await other.PostAsJsonAsync("/api/v1/locationTemplate", new { name = "Theirs" }))).GetProperty("id").GetInt64();
        Assert.Equal("INVALID_INPUT_ARGUMENT", await Refusal(new { name = "Linked", provUrlData = new { locationTemplate = new { id = theirs } } }));
    }

    [Fact]
    public async Task LocationTemplatesHaveFullCrudAndOneInUseCannotBeDeleted()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var c = host.Client(host.Mint("104"));
        var template = await Json(await c.PostAsJsonAsync("/api/v1/locationTemplate", new
        {
            name = "Branch template", desc = "small sites", template = new { templatePrefix = "br", xffForwardEnabled = true, upBandwidth = 100 },
        }));
        var id = template.GetProperty("id").GetInt64();
        Assert.Equal("br", template.GetProperty("template").GetProperty("templatePrefix").GetString());
        Assert.True(template.GetProperty("template").GetProperty("xffForwardEnabled").GetBoolean());
        Assert.False(template.GetProperty("template").GetProperty("surrogateIP").GetBoolean());

        // A template given replaces the old one whole; other fields left out keep their value.
        var updated = await Json(await c.PutAsJsonAsync($"/api/v1/locationTemplate/{id}", new { template = new { ofwEnabled = true } }));
        Assert.Equal("small sites", updated.GetProperty("desc").GetString());
        Assert.True(updated.GetProperty("template").GetProperty("ofwEnabled").GetBoolean());
        Assert.False(updated.GetProperty("template").GetProperty("xffForwardEnabled").GetBoolean());
        Assert.Equal(1, (await Json(await c.GetAsync("/api/v1/locationTemplate"))).GetArrayLength());

        var url = await Json(await c.PostAsJsonAsync("/api/v1/provUrl", new { name = "Uses it", provUrlData = new { locationTemplate = new { id } } }));
        Assert.Equal("Branch template", url.GetProperty("provUrlData").GetProperty("locationTemplate").GetProperty("name").GetString());
        Assert.Equal("RESOURCE_IN_USE", (await Json(await c.DeleteAsync($"/api/v1/locationTemplate/{id}"), HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync($"/api/v1/provUrl/{url.GetProperty("id").GetInt64()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync($"/api/v1/locationTemplate/{id}")).StatusCode);
        await Json(await c.GetAsync($"/api/v1/locationTemplate/{id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EachOrgIsSeededWithConnectorGroupsAndLocations()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var c = host.Client(host.Mint("105"));
        var groups = await Json(await c.GetAsync("/api/v1/ecgroup"));
        Assert.Equal(2, groups.GetArrayLength());
        var group = groups[0];
        var one = await Json(await c.GetAsync($"/api/v1/ecgroup/{group.GetProperty("id").GetInt64()}"));
        Assert.Equal(group.GetProperty("name").GetString(), one.GetProperty("name").GetString());
        Assert.Equal(2, one.GetProperty("ecVMs").GetArrayLength());
        var lite = await Json(await c.GetAsync("/api/v1/ecgroup/lite"));
        Assert.Equal(["id", "name"], lite[0].EnumerateObject().Select(p => p.Name));

        var locations = await Json(await c.GetAsync("/api/v1/location"));
        Assert.Equal(2, locations.GetArrayLength());
        Assert.True(locations[0].GetProperty("ecLocation").GetBoolean());
        Assert.Equal(group.GetProperty("location").GetProperty("id").GetInt64(), locations[0].GetProperty("id").GetInt64());
        Assert.Equal(2, (await Json(await c.GetAsync("/api/v1/location/lite"))).GetArrayLength());
        Assert.Equal(1, (await Json(await c.GetAsync("/api/v1/location?pageSize=1&page=2"))).GetArrayLength());
        Assert.Equal(0, (await Json(await c.GetAsync("/api/v1/location?pageSize=1&page=3"))).GetArrayLength());
    }

    [Fact]
    public async Task AnotherOrgGets404ForTheProvisioningUrl()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var owner = host.Client(host.Mint("106"));
        using var stranger = host.Client(host.Mint("107"));
        var id = (await Json(await owner.PostAsJsonAsync("/api/v1/provUrl", new { name = "Private" }))).GetProperty("id").GetInt64();

        await Json(await stranger.GetAsync($"/api/v1/provUrl/{id}"), HttpStatusCode.NotFound);
        await Json(await stranger.PutAsJsonAsync($"/api/v1/provUrl/{id}", new { name = "Taken over" }), HttpStatusCode.NotFound);
        await Json(await stranger.DeleteAsync($"/api/v1/provUrl/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await Json(await stranger.GetAsync("/api/v1/provUrl"))).GetArrayLength());
        var ownGroup = (await Json(await owner.GetAsync("/api/v1/ecgroup")))[0].GetProperty("id").GetInt64();
        await Json(await stranger.GetAsync($"/api/v1/ecgroup/{ownGroup}"), HttpStatusCode.NotFound);

        Assert.Equal("Private", (await Json(await owner.GetAsync($"/api/v1/provUrl/{id}"))).GetProperty("name").GetString());
    }

    public static TheoryData<string> Flaws() =>
        ["no token", "not a JWT", "a JWT of garbage", "forged with another key under the same kid", "expired", "another issuer", "another audience",
         "HS256 under the same kid", "alg none", "unknown kid", "no org_id"];

    [Theory]
    [MemberData(nameof(Flaws))]
    public async Task ATokenIsRefusedWith401When(string flaw)
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        var (kid, _) = host.Signing;
        string? token = flaw switch
        {
            "no token" => null,
            "not a JWT" => "kgp_not-a-jwt",
            "a JWT of garbage" => "abc.def.ghi",
            "forged with another key under the same kid" => host.Mint("108", d => d.SigningCredentials = new SigningCredentials(
                new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256)),
            "expired" => host.Mint("108", d => (d.IssuedAt, d.NotBefore, d.Expires) =
                (DateTime.UtcNow.AddMinutes(-7), DateTime.UtcNow.AddMinutes(-7), DateTime.UtcNow.AddMinutes(-2))),
            "another issuer" => host.Mint("108", d => d.Issuer = "http://elsewhere.test"),
            "another audience" => host.Mint("108", d => d.Audience = "some-other-service"),
            "HS256 under the same kid" => host.Mint("108", d => d.SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = kid }, SecurityAlgorithms.HmacSha256)),
            "alg none" => host.Mint("108", d => d.SigningCredentials = null),
            "unknown kid" => host.Mint("108", d => d.SigningCredentials = new SigningCredentials(
                new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "kg-unknown" }, SecurityAlgorithms.EcdsaSha256)),
            "no org_id" => host.Mint("108", d => d.Claims.Remove("org_id")),
            _ => throw new ArgumentOutOfRangeException(nameof(flaw)),
        };
        using var c = host.Client(token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/provUrl")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.PostAsJsonAsync("/api/v1/provUrl", new { name = "x" })).StatusCode);
        // The same sample answers a good token, so the refusal was the token's.
        using var good = host.Client(host.Mint("108"));
        Assert.Equal(HttpStatusCode.OK, (await good.GetAsync("/api/v1/provUrl")).StatusCode);
    }

    [Fact]
    public async Task ATokenWithANewKidMakesTheSampleFetchTheJwksAgain()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using (var first = host.Client(host.Mint("109"))) await Json(await first.GetAsync("/api/v1/ecgroup"));
        Assert.Equal(1, host.JwksFetches);
        var oldToken = host.Mint("109");

        host.Rotate();
        using (var rotated = host.Client(host.Mint("109"))) await Json(await rotated.GetAsync("/api/v1/ecgroup"));
        Assert.Equal(2, host.JwksFetches);
        // The old key stays listed, so its tokens still pass, without another fetch.
        using (var old = host.Client(oldToken)) await Json(await old.GetAsync("/api/v1/ecgroup"));
        Assert.Equal(2, host.JwksFetches);
    }

    [Fact]
    public async Task FeaturePermissionsDecideReadsAndWrites()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var readOnly = host.Client(host.Mint("110", d => d.Claims["role"] = "Read Only Admin", SampleUpstreamHost.Permissions("READ_ONLY")));
        await Json(await readOnly.GetAsync("/api/v1/provUrl"));
        var refused = await Json(await readOnly.PostAsJsonAsync("/api/v1/provUrl", new { name = "x" }), HttpStatusCode.Forbidden);
        Assert.Equal("ACCESS_DENIED", refused.GetProperty("code").GetString());

        var none = SampleUpstreamHost.Permissions("READ_WRITE");
        none["EDGE_CONNECTOR_LOCATION_MANAGEMENT"] = "NONE";
        using var noLocations = host.Client(host.Mint("110", permissions: none));
        await Json(await noLocations.GetAsync("/api/v1/location"), HttpStatusCode.Forbidden);
        await Json(await noLocations.GetAsync("/api/v1/ecgroup"));
    }

    [Fact]
    public async Task DiagnosticsRecordWhatTheSampleSawAndStreamBothWays()
    {
        await using var host = await SampleUpstreamHost.StartAsync();
        using var c = host.Client(host.Mint("111"));
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ecgroup/lite"))
        {
            request.Headers.Add("Cookie", "JSESSIONID=abc");
            request.Headers.Add("X-Keygate-Org-Id", "111");
            await Json(await c.SendAsync(request));
        }
        using var anonymous = host.Client();
        var seen = await Json(await anonymous.GetAsync("/_diag/last-request"));
        Assert.Equal("/api/v1/ecgroup/lite", seen.GetProperty("path").GetString());
        Assert.True(seen.GetProperty("cookiePresent").GetBoolean());
        Assert.Equal(("Bearer", true, "111"), (seen.GetProperty("authorizationScheme").GetString(), seen.GetProperty("authenticated").GetBoolean(),
            seen.GetProperty("orgId").GetString()));
        Assert.Equal("111", seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Org-Id").GetString());

        // 50 MiB down, read as it comes, against the documented pattern.
        using var response = await c.GetAsync("/api/v1/_diag/download", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(50L * 1024 * 1024, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long offset = 0;
        for (int n; (n = await body.ReadAsync(buffer)) > 0; offset += n)
            for (var i = 0; i < n; i++)
                if (buffer[i] != (byte)((offset + i) % 251)) Assert.Fail($"byte {offset + i} is {buffer[i]}");
        Assert.Equal(50L * 1024 * 1024, offset);

        // 40 MiB up (over Kestrel's default 30 MB limit), counted and hashed.
        var upload = RandomNumberGenerator.GetBytes(40 * 1024 * 1024);
        var receipt = await Json(await anonymous.PostAsync("/_diag/upload", new ByteArrayContent(upload)));
        Assert.Equal(upload.Length, receipt.GetProperty("received").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(upload)), receipt.GetProperty("sha256").GetString());

        Assert.Equal(20, (await Json(await c.GetAsync("/api/v1/_diag/slow?ms=20"))).GetProperty("ms").GetInt32());
        using var impatient = host.Client();
        impatient.Timeout = TimeSpan.FromMilliseconds(200);
        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync("/_diag/slow?ms=5000"));
        // Under /api/v1 the diagnostics need the token like everything else.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/_diag/slow?ms=1")).StatusCode);
    }

    [Fact]
    public async Task WithoutDiagnosticsOnlyHealthAndTheOpenApiDocumentNeedNoToken()
    {
        await using var host = await SampleUpstreamHost.StartAsync(diagnostics: false);
        using var anonymous = host.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/_diag/last-request")).StatusCode);
        using var c = host.Client(host.Mint("112"));
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("/_diag/last-request")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("/api/v1/_diag/download")).StatusCode);

        var doc = await Json(await anonymous.GetAsync("/openapi/v1.json"));
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("/api/v1/provUrl/{id}", paths);
        Assert.Contains("/api/v1/ecgroup/lite", paths);
        Assert.Contains("/api/v1/locationTemplate", paths);
        var operations = doc.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()).ToArray();
        Assert.Equal(16, operations.Length);
        Assert.All(operations, o => Assert.False(string.IsNullOrEmpty(o.Value.GetProperty("summary").GetString()), o.Name));
        Assert.True(doc.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("KeygateIdentityToken", out _));
    }
}
