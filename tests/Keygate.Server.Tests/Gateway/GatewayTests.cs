using System.Net;
using System.Text.Json;

namespace Keygate.Tests;

/// <summary>The gateway of contract A7, through Keygate to the sample upstream on its own loopback port.</summary>
public sealed class GatewayTests
{
    private static async Task<JsonElement> LastRequestAsync(SampleUpstreamHost upstream)
    {
        using var c = upstream.Client();
        return await (await c.GetAsync("/_diag/last-request")).AssertOk();
    }

    [Fact]
    public async Task AnAdminLogsInListsCreatesAndReadsBackThroughTheGatewayAndLogsOut()
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var c = await g.App.SessionAsync(org);

        var groups = await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        Assert.Equal(2, groups.GetArrayLength());
        var created = await (await c.PostAsync("/api/v1/provUrl", Scenario.Json(new { name = "Branch", desc = "through Keygate" }))).AssertOk();
        var id = created.GetProperty("id").GetInt64();
        var read = await c.GetAsync($"/api/v1/provUrl/{id}");
        Assert.Equal("through Keygate", (await read.AssertOk()).GetProperty("desc").GetString());
        Assert.True(read.Headers.Contains("X-RateLimit-Limit") && read.Headers.Contains("X-RateLimit-Remaining") && read.Headers.Contains("X-RateLimit-Reset"));

        // The upstream saw Keygate's identity token for this admin and org, and no cookie.
        var seen = await LastRequestAsync(g.Upstream);
        Assert.True(seen.GetProperty("authenticated").GetBoolean());
        Assert.False(seen.GetProperty("cookiePresent").GetBoolean());
        Assert.Equal(org.Id.ToString(), seen.GetProperty("orgId").GetString());
        Assert.Equal(org.Id.ToString(), seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Org-Id").GetString());
        Assert.Equal(seen.GetProperty("subject").GetString(), seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Admin-Id").GetString());
        Assert.True(seen.GetProperty("forwardedHeaders").TryGetProperty("X-Forwarded-For", out _));
        Assert.False(string.IsNullOrEmpty(seen.GetProperty("traceparent").GetString()));
        var names = seen.GetProperty("headerNames").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.DoesNotContain(names, n => n.Equals("JSessionID", StringComparison.OrdinalIgnoreCase));

        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode);
        var forwarded = g.Upstream.ApiCalls;
        await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(forwarded, g.Upstream.ApiCalls);
    }

    [Fact]
    public async Task TheUpstreamRefusesACallWithoutKeygatesToken()
    {
        await using var g = await GatewayHost.StartAsync();
        using var direct = g.Upstream.Client();
        direct.DefaultRequestHeaders.Add("X-Keygate-Org-Id", "1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync("/api/v1/ecgroup")).StatusCode);
    }
}
