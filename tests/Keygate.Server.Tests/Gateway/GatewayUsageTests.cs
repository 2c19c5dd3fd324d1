using System.Net;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// What the gateway did, as usage shows it (issue 14): every forwarded call counts against the org's threshold, and the
/// provider console and usage route show per org the calls forwarded and the upstream's failures (502, 504).
/// </summary>
public sealed class GatewayUsageTests
{
    [Fact]
    public async Task TheConsoleAndProviderUsageShowTheForwardedCallsAndTheUpstreamErrorsOfEachOrg()
    {
        await using var g = await GatewayHost.StartAsync(new()
        {
            // The sample behind a second cluster that waits 1 s, and a cluster where nothing listens.
            ["Keygate:Gateway:Routes:slow:ClusterId"] = "slow",
            ["Keygate:Gateway:Routes:slow:Match:Path"] = "/api/v1/_diag/slow",
            ["Keygate:Gateway:Clusters:slow:HttpRequest:ActivityTimeout"] = "00:00:01",
            ["Keygate:Gateway:Routes:down:ClusterId"] = "down",
            ["Keygate:Gateway:Routes:down:Match:Path"] = "/api/v1/down/{**rest}",
            ["Keygate:Gateway:Clusters:down:Destinations:one:Address"] = "http://127.0.0.1:1",
        }, withUpstream: url => new() { ["Keygate:Gateway:Clusters:slow:Destinations:one:Address"] = url });
        var org = await g.App.CreateOrgAsync();
        var quiet = await g.App.CreateOrgAsync();
        var c = await g.App.SessionAsync(org);

        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        await (await c.PostAsync("/api/v1/provUrl", Scenario.Json(new { name = "Branch" }))).AssertOk();
        await (await c.GetAsync("/api/v1/apiKeys")).AssertOk(); // Keygate's own route: metered, not forwarded
        await (await c.GetAsync("/api/v1/down/ecgroup")).AssertError(HttpStatusCode.BadGateway, "UPSTREAM_UNAVAILABLE");
        await (await c.GetAsync("/api/v1/_diag/slow?ms=10000")).AssertError(HttpStatusCode.GatewayTimeout, "UPSTREAM_TIMEOUT");

        // Five calls counted against the threshold, whatever their answer; four of them went to an upstream, two failed.
        var usage = await (await g.App.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk();
        Assert.Equal(5, usage.GetProperty("calls").GetInt64());
        Assert.Equal(4, usage.GetProperty("gateway").GetProperty("forwarded").GetInt64());
        Assert.Equal(2, usage.GetProperty("gateway").GetProperty("upstreamErrors").GetInt64());
        var none = await (await g.App.Provider().GetAsync($"/provider/v1/organizations/{quiet.Id}/usage")).AssertOk();
        Assert.Equal(0, none.GetProperty("gateway").GetProperty("forwarded").GetInt64());
        // The org's own usage route keeps its contract shape.
        Assert.False((await (await c.GetAsync("/api/v1/usage")).AssertOk()).TryGetProperty("gateway", out _));

        using var console = await g.App.PortalLoginAsync(await g.App.CreateStaffAsync(), Scenario.Password);
        var page = await console.GetStringAsync($"/console/organizations/{org.Id}");
        Assert.Equal("4", Regex.Match(page, "data-gateway-forwarded>([^<]*)<").Groups[1].Value);
        Assert.Equal("2", Regex.Match(page, "data-gateway-upstream-errors>([^<]*)<").Groups[1].Value);
        var quietPage = await console.GetStringAsync($"/console/organizations/{quiet.Id}");
        Assert.Equal("0", Regex.Match(quietPage, "data-gateway-forwarded>([^<]*)<").Groups[1].Value);
    }
}
