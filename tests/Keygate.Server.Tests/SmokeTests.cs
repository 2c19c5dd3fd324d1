using System.Net;

namespace Keygate.Tests;

public sealed class SmokeTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [Fact]
    public async Task AdminReadsKeyInPortalThenLogsInAndListsKeys()
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        var keys = await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(org.KeyId, keys[0].GetProperty("id").GetInt64());
        Assert.Equal(await app.KeyValueAsync(org), keys[0].GetProperty("keyValue").GetString());
    }

    [Fact]
    public async Task HealthAndReadiness()
    {
        using var c = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task MetricsCountLoginsWithoutOrganizationLabels()
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        var text = await app.Client().GetStringAsync("/metrics");
        Assert.Contains("keygate_legacy_logins_total{outcome=\"SUCCESS\"}", text);
        Assert.Contains("keygate_sessions_live", text);
        Assert.DoesNotMatch($"(?<!le)=\"{org.Id}\"", text);
        Assert.DoesNotContain(org.Username, text);
    }

    [Fact]
    public async Task MetricsNeedTheTokenWhenOneIsConfigured()
    {
        await using var guarded = KeygateApp.With(new() { ["Keygate:Metrics:Token"] = "metrics-secret" });
        using var c = guarded.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/metrics")).StatusCode);
        c.DefaultRequestHeaders.Add("Authorization", "Bearer metrics-secret");
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/metrics")).StatusCode);
    }
}
