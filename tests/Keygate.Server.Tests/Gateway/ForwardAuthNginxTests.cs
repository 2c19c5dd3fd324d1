using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Forward-auth mode (contract A7) with a real nginx: Debian's nginx runs the forward-auth example of docs/gateway.md
/// in front of the sample upstream, asking Keygate's GET /gateway/v1/authorize before each call. The client only ever
/// talks to nginx, which is listed in Keygate:KnownProxies.
/// </summary>
public sealed class ForwardAuthNginxTests
{
    private sealed class Stack : IAsyncDisposable
    {
        public required GatewayHost Gateway { get; init; }
        public required NginxProcess Nginx { get; init; }
        public KeygateApp App => Gateway.App;
        public SampleUpstreamHost Upstream => Gateway.Upstream;

        public static async Task<Stack> StartAsync()
        {
            var g = await GatewayHost.StartAsync(new() { ["Keygate:KnownProxies:0"] = "127.0.0.1" });
            try
            {
                var nginx = await NginxProcess.StartAsync(port => NginxProcess.ForwardAuthConfig(port, g.App.BaseAddress.Port, new Uri(g.Upstream.Url).Port));
                return new Stack { Gateway = g, Nginx = nginx };
            }
            catch
            {
                await g.DisposeAsync();
                throw;
            }
        }

        /// <summary>A client of nginx only, keeping no cookies.</summary>
        public HttpClient Client() => KeygateCluster.Client(Nginx.Address);

        /// <summary>Logs in through nginx (which sends the login to Keygate) and returns a client of nginx with the session.</summary>
        public async Task<HttpClient> SessionAsync(TestOrg org)
        {
            var login = await Client().LoginAsync(org.Username, org.Password, await App.KeyValueAsync(org), App.NowMs);
            await login.AssertOk();
            var c = Client();
            c.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={Scenario.SessionIdOf(login)}");
            return c;
        }

        public async ValueTask DisposeAsync()
        {
            await Nginx.DisposeAsync();
            await Gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnAdminLogsInThroughNginxListsCreatesAndReadsBackFromTheUpstreamAndLogsOut()
    {
        Assert.SkipWhen(NginxProcess.Binary is null, NginxProcess.SkipReason);
        await using var s = await Stack.StartAsync();
        var org = await s.App.CreateOrgAsync();
        var c = await s.SessionAsync(org);
        // Made-up credentials and ids, which must not reach the upstream as the caller sent them.
        c.DefaultRequestHeaders.Add("JSessionID", "made-up");
        c.DefaultRequestHeaders.Add("X-Keygate-Org-Id", "999999");

        Assert.Equal(2, (await (await c.GetAsync("/api/v1/ecgroup")).AssertOk()).GetArrayLength());
        var created = await (await c.PostAsync("/api/v1/provUrl", Scenario.Json(new { name = "Branch", desc = "through nginx" }))).AssertOk();
        var read = await c.GetAsync($"/api/v1/provUrl/{created.GetProperty("id").GetInt64()}");
        Assert.Equal("through nginx", (await read.AssertOk()).GetProperty("desc").GetString());
        Assert.True(read.Headers.Contains("X-RateLimit-Limit") && read.Headers.Contains("X-RateLimit-Remaining") && read.Headers.Contains("X-RateLimit-Reset"),
            string.Join(", ", read.Headers.Select(h => h.Key)));
        Assert.False(read.Headers.Contains("X-Keygate-Refusal"));

        // The upstream saw Keygate's identity token for this admin and org, Keygate's ids, and no cookie or session header.
        var seen = await GatewayTests.LastRequestAsync(s.Upstream);
        Assert.True(seen.GetProperty("authenticated").GetBoolean());
        Assert.False(seen.GetProperty("cookiePresent").GetBoolean());
        Assert.Equal(org.Id.ToString(), seen.GetProperty("orgId").GetString());
        Assert.Equal(org.Id.ToString(), seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Org-Id").GetString());
        Assert.Equal(seen.GetProperty("subject").GetString(), seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Admin-Id").GetString());
        var names = seen.GetProperty("headerNames").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.DoesNotContain(names, n => n.Equals("JSessionID", StringComparison.OrdinalIgnoreCase));

        Assert.Equal(HttpStatusCode.NoContent, (await c.DeleteAsync("/api/v1/auth")).StatusCode);
        var forwarded = s.Upstream.ApiCalls;
        var refused = await c.GetAsync("/api/v1/ecgroup");
        await refused.AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(forwarded, s.Upstream.ApiCalls);
    }

    [Fact]
    public async Task NginxRelaysKeygatesRefusalsWithTheirStatusBodyAndRetryAfterAndForwardsNone()
    {
        Assert.SkipWhen(NginxProcess.Binary is null, NginxProcess.SkipReason);
        await using var s = await Stack.StartAsync();
        var org = await s.App.CreateOrgAsync();
        var c = await s.SessionAsync(org);
        var own = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ecgroup");
        own.Headers.Add("Origin", s.Nginx.Address.GetLeftPart(UriPartial.Authority)); // nginx's origin is Keygate's own
        await (await c.SendAsync(own)).AssertOk();
        var forwarded = s.Upstream.ApiCalls;

        await (await s.Client().GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        var crossSite = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ecgroup");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        await (await c.SendAsync(crossSite)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/v1/provUrl") { Content = Scenario.Json(new { name = "from elsewhere" }) };
        foreign.Headers.Add("Origin", "https://attacker.example");
        await (await c.SendAsync(foreign)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");

        await (await s.App.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Scenario.Json(new { reason = "OTHER", note = "forward-auth test" }))).AssertOk();
        await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        // The contract's default limits: 2 light calls a second, and Keygate's clock stands still within its second.
        var limitedOrg = await s.App.CreateOrgAsync(defaultLimits: true);
        var l = await s.SessionAsync(limitedOrg);
        await (await l.GetAsync("/api/v1/ecgroup")).AssertOk();
        await (await l.GetAsync("/api/v1/ecgroup/lite")).AssertOk();
        forwarded += 2;
        var limited = await l.GetAsync("/api/v1/ecgroup");
        var body = await limited.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After: " + limited.Headers);
        Assert.Equal($"{limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds} seconds", body.GetProperty("Retry-After").GetString());
        Assert.Equal(("2", "0"), (limited.Headers.GetValues("X-RateLimit-Limit").Single(), limited.Headers.GetValues("X-RateLimit-Remaining").Single()));
        Assert.Equal(forwarded, s.Upstream.ApiCalls);
    }

    [Fact]
    public async Task TheCallThatCrossesTheThresholdThroughNginxIsRefusedAndOnlyTheAllowedOnesReachTheUpstream()
    {
        Assert.SkipWhen(NginxProcess.Binary is null, NginxProcess.SkipReason);
        const int threshold = 3;
        await using var s = await Stack.StartAsync();
        var org = await s.App.CreateOrgAsync();
        await (await s.App.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(Scenario.ThresholdOnly(threshold)))).AssertOk();
        var c = await s.SessionAsync(org);
        var before = s.Upstream.ApiCalls;

        for (var i = 0; i < threshold; i++) await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await c.PostAsync("/api/v1/provUrl", Scenario.Json(new { name = "after" }))).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(threshold, s.Upstream.ApiCalls - before);
    }
}
