using System.Net;
using System.Text.Json;

namespace Keygate.Tests;

/// <summary>The gateway of contract A7, through Keygate to the sample upstream on its own loopback port.</summary>
public sealed class GatewayTests
{
    internal static async Task<JsonElement> LastRequestAsync(SampleUpstreamHost upstream)
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

    [Theory]
    [InlineData("regenerate")]
    [InlineData("disable")]
    [InlineData("expiry")]
    [InlineData("threshold")]
    [InlineData("logout")]
    public async Task AChangeStopsTheNextForwardedCall(string change)
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var provider = g.App.Provider();
        if (change == "regenerate")
            await (await provider.PatchAsync($"/provider/v1/organizations/{org.Id}", Scenario.Json(new { endSessionsOnKeyChange = true }))).AssertOk();
        if (change == "threshold")
            await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(Scenario.ThresholdOnly(2)))).AssertOk();
        var c = await g.App.SessionAsync(org);
        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();

        switch (change)
        {
            case "regenerate": await (await c.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk(); break;
            case "disable":
                await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
                    Scenario.Json(new { reason = "OTHER", note = "gateway test" }))).AssertOk();
                break;
            case "expiry": g.App.Clock.Advance(TimeSpan.FromMinutes(31)); break;
            case "threshold": await (await c.GetAsync("/api/v1/ecgroup/lite")).AssertOk(); break; // the threshold's last call
            case "logout": Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode); break;
        }
        var forwarded = g.Upstream.ApiCalls;
        var refused = await c.GetAsync("/api/v1/ecgroup");
        if (change is "disable" or "threshold") await refused.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        else await refused.AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(forwarded, g.Upstream.ApiCalls);
    }

    /// <summary>The identity token Keygate's forward-auth answers for this session.</summary>
    private static async Task<string> TokenAsync(HttpClient session)
    {
        var ask = new HttpRequestMessage(HttpMethod.Get, "/gateway/v1/authorize");
        ask.Headers.Add("X-Original-Method", "GET");
        ask.Headers.Add("X-Original-URI", "/api/v1/ecgroup");
        var answer = await session.SendAsync(ask);
        await answer.AssertOk();
        return answer.Headers.GetValues("Authorization").Single()["Bearer ".Length..];
    }

    [Fact]
    public async Task TheUpstreamRefusesKeygatesTokenTamperedWithExpiredOrFromAnotherKeygate()
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var other = await g.App.CreateOrgAsync();
        var token = await TokenAsync(await g.App.SessionAsync(org));
        using (var genuine = g.Upstream.Client(token)) await (await genuine.GetAsync("/api/v1/ecgroup")).AssertOk();

        // Forged: another org's id in the payload, Keygate's header and signature kept.
        var parts = token.Split('.');
        var claims = System.Text.Json.Nodes.JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]))!;
        claims["org_id"] = other.Id;
        var forged = string.Join('.', parts[0], System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(claims.ToJsonString())), parts[2]);
        using (var c = g.Upstream.Client(forged)) Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/ecgroup")).StatusCode);

        // Another Keygate, with keys and an issuer of its own: a well-made token this upstream never trusted.
        await using (var elsewhere = await GatewayHost.StartAsync(new() { ["Keygate:Gateway:Issuer"] = "http://other-keygate.test" }))
        {
            var foreign = await TokenAsync(await elsewhere.App.SessionAsync(await elsewhere.App.CreateOrgAsync()));
            using var c = g.Upstream.Client(foreign);
            Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/ecgroup")).StatusCode);
        }

        // Expired: a Keygate whose clock is 10 minutes behind signs tokens that ran out (5 minutes) before they arrive.
        await using var late = await GatewayHost.StartAsync(clockOffset: TimeSpan.FromMinutes(-10));
        var s = await late.App.SessionAsync(await late.App.CreateOrgAsync());
        using (var c = late.Upstream.Client(await TokenAsync(s))) Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("/api/v1/ecgroup")).StatusCode);
        // Through that gateway too: the upstream's 401 comes back as it is.
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.GetAsync("/api/v1/ecgroup")).StatusCode);
        Assert.False((await LastRequestAsync(late.Upstream)).GetProperty("authenticated").GetBoolean());
    }

    [Fact]
    public async Task TheThresholdCountsForwardedCallsExactlyUnderParallelLoad()
    {
        const int threshold = 25, sent = 40;
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var c = await g.App.SessionAsync(org);
        await (await g.App.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(Scenario.ThresholdOnly(threshold)))).AssertOk();
        var before = g.Upstream.ApiCalls;

        var answers = await Task.WhenAll(Enumerable.Range(0, sent).Select(_ => c.GetAsync("/api/v1/ecgroup")));
        Assert.Equal(threshold, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        foreach (var refused in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
            await refused.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(threshold, g.Upstream.ApiCalls - before);
    }

    [Fact]
    public async Task AnUnreachableUpstreamIs502AndASilentOneIs504()
    {
        await using (var down = await GatewayHost.StartAsync(upstreamUrl: "http://127.0.0.1:1"))
        {
            var c = await down.App.SessionAsync(await down.App.CreateOrgAsync());
            await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.BadGateway, "UPSTREAM_UNAVAILABLE");
        }
        await using var slow = await GatewayHost.StartAsync(new() { ["Keygate:Gateway:TimeoutSeconds"] = "1" });
        var s = await slow.App.SessionAsync(await slow.App.CreateOrgAsync());
        var answer = await s.GetAsync("/api/v1/_diag/slow?ms=10000");
        await answer.AssertError(HttpStatusCode.GatewayTimeout, "UPSTREAM_TIMEOUT");
        Assert.True(answer.Headers.Contains("X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task MeteredAnswersCarryTheRateWindowWithTheFewestCallsLeftAndA429Too()
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync(defaultLimits: true);
        var c = await g.App.SessionAsync(org);
        // Light calls: 2 a second and 1000 an hour, so the second's window is the one reported.
        static (string, string) Rate(HttpResponseMessage r) =>
            (r.Headers.GetValues("X-RateLimit-Limit").Single(), r.Headers.GetValues("X-RateLimit-Remaining").Single());
        var first = await c.GetAsync("/api/v1/ecgroup");
        await first.AssertOk();
        Assert.Equal(("2", "1"), Rate(first));
        Assert.Equal("1", first.Headers.GetValues("X-RateLimit-Reset").Single()); // the fake clock stands still within its second
        var own = await c.GetAsync("/api/v1/apiKeys");
        await own.AssertOk();
        Assert.Equal(("2", "0"), Rate(own));
        var limited = await c.GetAsync("/api/v1/ecgroup");
        await limited.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.Equal(("2", "0"), Rate(limited));
        Assert.True(limited.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task CrossSiteRequestsAndPathsWithNoRouteAreRefusedBeforeForwarding()
    {
        await using var g = await GatewayHost.StartAsync(new() { ["Keygate:Gateway:Routes:api:Match:Path"] = "/api/v1/ecgroup/{**rest}" });
        var c = await g.App.SessionAsync(await g.App.CreateOrgAsync());
        await (await c.GetAsync("/api/v1/ecgroup/lite")).AssertOk();
        var forwarded = g.Upstream.ApiCalls;

        var crossSite = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ecgroup/lite");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        await (await c.SendAsync(crossSite)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await c.GetAsync("/api/v1/location")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await g.App.Client().GetAsync("/api/v1/location")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal(forwarded, g.Upstream.ApiCalls);
    }

    [Fact]
    public async Task ARotatedSigningKeyIsPublishedBesideTheOldOneAndTheUpstreamKeepsAccepting()
    {
        await using var g = await GatewayHost.StartAsync();
        var c = await g.App.SessionAsync(await g.App.CreateOrgAsync());
        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        var client = g.App.Client();
        var before = (await (await client.GetAsync("/.well-known/jwks.json")).AssertOk()).GetProperty("keys")[0].GetProperty("kid").GetString();

        var kid = (await (await g.App.Provider().PostAsync("/provider/v1/signingKeys/rotate", null)).AssertOk()).GetProperty("kid").GetString();
        Assert.NotEqual(before, kid);
        var kids = (await (await client.GetAsync("/.well-known/jwks.json")).AssertOk()).GetProperty("keys").EnumerateArray()
            .Select(k => k.GetProperty("kid").GetString()).ToList();
        Assert.Equal([kid, before], kids);

        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        var seen = await LastRequestAsync(g.Upstream);
        Assert.True(seen.GetProperty("authenticated").GetBoolean());
    }

    [Fact]
    public async Task ForwardAuthAnswersTheTokenHeadersForTheOriginalRequestAndCountsIt()
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync(defaultLimits: true);
        var c = await g.App.SessionAsync(org);
        HttpRequestMessage Ask(string method)
        {
            var ask = new HttpRequestMessage(HttpMethod.Get, "/gateway/v1/authorize");
            ask.Headers.Add("X-Original-Method", method);
            ask.Headers.Add("X-Original-URI", "/api/v1/ecgroup?page=1");
            return ask;
        }

        var allowed = await c.SendAsync(Ask("GET"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(org.Id.ToString(), allowed.Headers.GetValues("X-Keygate-Org-Id").Single());
        Assert.Equal("1", allowed.Headers.GetValues("X-RateLimit-Remaining").Single());
        // The proxy passes the token on, and the upstream trusts it.
        using var upstream = g.Upstream.Client();
        upstream.DefaultRequestHeaders.Authorization = System.Net.Http.Headers.AuthenticationHeaderValue.Parse(allowed.Headers.GetValues("Authorization").Single());
        await (await upstream.GetAsync("/api/v1/ecgroup")).AssertOk();

        // Counted like a forwarded call: the second light call of the second is the last one.
        Assert.Equal(HttpStatusCode.OK, (await c.SendAsync(Ask("GET"))).StatusCode);
        await (await c.SendAsync(Ask("GET"))).AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode);
        await (await c.SendAsync(Ask("POST"))).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task ForwardAuthRefusesAnOriginalWriteWhoseContentTypeIsNotJsonWith415AndTheRefusalHeader()
    {
        await using var g = await GatewayHost.StartAsync();
        var c = await g.App.SessionAsync(await g.App.CreateOrgAsync());
        // The question is a GET with no body that carries the original request's headers, as nginx's auth_request sends it.
        HttpRequestMessage Ask(string method, string? contentType, string methodHeader = "X-Original-Method")
        {
            var ask = new HttpRequestMessage(HttpMethod.Get, "/gateway/v1/authorize");
            ask.Headers.Add(methodHeader, method);
            ask.Headers.Add("X-Original-URI", "/api/v1/provUrl");
            if (contentType is not null)
            {
                ask.Content = new ByteArrayContent([]);
                ask.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            }
            return ask;
        }

        foreach (var (method, contentType, header) in new[]
        {
            ("POST", "text/plain", "X-Original-Method"), ("PUT", "application/x-www-form-urlencoded", "X-Original-Method"),
            ("PATCH", "multipart/form-data; boundary=x", "X-Original-Method"), ("DELETE", "text/plain", "X-Forwarded-Method"),
        })
        {
            var refused = await c.SendAsync(Ask(method, contentType, header));
            var body = await refused.AssertError(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
            var relayed = System.Text.Json.JsonDocument.Parse(refused.Headers.GetValues("X-Keygate-Refusal").Single()).RootElement;
            Assert.Equal(body.GetProperty("code").GetString(), relayed.GetProperty("code").GetString());
        }

        // JSON (parameters allowed), a write with no Content-Type (an SDK without a body), and a read of any type pass.
        await (await c.SendAsync(Ask("POST", "application/json; charset=utf-8"))).AssertOk();
        await (await c.SendAsync(Ask("DELETE", null))).AssertOk();
        await (await c.SendAsync(Ask("GET", "text/plain"))).AssertOk();
    }
}
