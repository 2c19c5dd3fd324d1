using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Issue 15 across nodes (contract A8, B v3): a disabled admin, a revoked provider token and a suspended org are
/// refused by node B at its first request after the change returned on node A, and at every one after it, although
/// node B had just served each of them (so each sat in its memory when the change came).
/// </summary>
public sealed partial class MultiNodeTests
{
    private const int Burst = 20;

    [Fact]
    public async Task AnAdminDisabledOnNodeAIsRefusedOnNodeBAtTheNextRequest()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        using var providerA = cluster.Provider(cluster.A.Address);
        var org = await Scenario.CreateOrgAsync(providerA, providerA);
        var key = await KeyOnNodeAAsync(org);
        // Another super admin of the org, who logs in on node B; the org's first admin disables them on node A.
        using var firstOnA = await SessionOnAsync(cluster.A.Address, org.Username, key);
        var (id, login) = await firstOnA.AddAdminAsync("Super Admin");
        using var theirsOnB = await SessionOnAsync(cluster.B.Address, login, key);
        await WarmAsync(theirsOnB);

        await (await firstOnA.PutAsync($"/api/v1/adminUsers/{id}", Scenario.Json(new { disabled = true }))).AssertOk();
        await AssertRefusedOnBAsync(theirsOnB, HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task AProviderTokenRevokedOnNodeAIsRefusedOnNodeBAtTheNextRequest()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        using var operatorA = cluster.Provider(cluster.A.Address);
        var created = await (await operatorA.PostAsync("/provider/v1/tokens", Scenario.Json(new { name = "two-node " + Guid.NewGuid().ToString("N")[..8] })))
            .AssertOk(HttpStatusCode.Created);
        using var tokenOnB = KeygateCluster.Client(cluster.B.Address, created.GetProperty("token").GetString()!);
        for (var i = 0; i < 3; i++) await (await tokenOnB.GetAsync("/provider/v1/tokens")).AssertOk();

        Assert.Equal(HttpStatusCode.NoContent, (await operatorA.DeleteAsync($"/provider/v1/tokens/{created.GetProperty("id").GetInt64()}")).StatusCode);
        for (var i = 0; i <= Burst; i++)
            await (await tokenOnB.GetAsync(i % 2 == 0 ? "/provider/v1/tokens" : "/provider/v1/organizations?search=nothing-matches"))
                .AssertError(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task AnOrgSuspendedOnNodeAIsRefusedOnNodeBAtTheNextRequest()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        using var providerA = cluster.Provider(cluster.A.Address);
        var org = await Scenario.CreateOrgAsync(providerA, providerA);
        using var sessionOnB = await SessionOnAsync(cluster.B.Address, org.Username, await KeyOnNodeAAsync(org));
        await WarmAsync(sessionOnB);

        await (await providerA.PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Scenario.Json(new { note = "two-node test" }))).AssertOk();
        await AssertRefusedOnBAsync(sessionOnB, HttpStatusCode.Forbidden, "ORG_SUSPENDED");
    }

    /// <summary>The org's Cloud Service key value, read where its admin reads it: the portal on node A.</summary>
    private async Task<string> KeyOnNodeAAsync(TestOrg org)
    {
        using var portal = KeygateCluster.Client(cluster.A.Address, cookies: true);
        await portal.PortalLoginAsync(org.Username, org.Password);
        return Scenario.KeyValueOnPage(await portal.GetStringAsync(PortalSession.KeyPage)) ?? throw new InvalidOperationException("no key on the key page");
    }

    /// <summary>A client of one node carrying a fresh legacy session of <paramref name="login"/>.</summary>
    private static async Task<HttpClient> SessionOnAsync(Uri node, string login, string key)
    {
        using var client = KeygateCluster.Client(node);
        var loggedIn = await client.LoginAsync(login, Scenario.Password, key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await loggedIn.AssertOk();
        var session = KeygateCluster.Client(node);
        session.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={Scenario.SessionIdOf(loggedIn)}");
        return session;
    }

    /// <summary>Keygate's own legacy routes and a forwarded one (contract A7), in turn.</summary>
    private static readonly string[] LegacyRoutes = ["/api/v1/apiKeys", "/api/v1/auth", "/api/v1/ecgroup"];

    /// <summary>Node B serves the session on every route, so the session and its org are in its memory.</summary>
    private static async Task WarmAsync(HttpClient onB)
    {
        for (var i = 0; i < 2; i++)
            foreach (var route in LegacyRoutes) await (await onB.GetAsync(route)).AssertOk();
    }

    /// <summary>The first request on node B after the change, and a burst after it, are all refused; none is forwarded.</summary>
    private async Task AssertRefusedOnBAsync(HttpClient onB, HttpStatusCode status, string code)
    {
        var forwarded = cluster.Upstream.ApiCalls;
        for (var i = 0; i <= Burst; i++)
            await (await onB.GetAsync(LegacyRoutes[i % LegacyRoutes.Length])).AssertError(status, code);
        Assert.Equal(forwarded, cluster.Upstream.ApiCalls);
    }
}
