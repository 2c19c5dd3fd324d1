using System.Diagnostics;
using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Issue 6, the product's promise across nodes (contract A4, "immediately"): once a change has returned on
/// one node, no other node accepts the old key, a session the change ended, a disabled key or an expired
/// subscription; and no node forwards a call (contract A7) for a credential a change on another node ended. Two Keygate
/// processes behind nginx on one PostgreSQL database and one Redis.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed partial class MultiNodeTests(KeygateCluster cluster, ITestOutputHelper output) : IClassFixture<KeygateCluster>
{
    private const int MinChanges = 200;
    private const int Clients = 4;
    private static readonly TimeSpan ChangeBudget = TimeSpan.FromSeconds(90);

    [Fact(Timeout = 240_000)]
    public async Task NoRequestToNodeBIsAcceptedWithACredentialAChangeOnNodeAHadEnded()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        await AssertNothingStaleAsync(cluster, output, TestContext.Current.CancellationToken, cluster.B);
    }

    /// <summary>
    /// At least <see cref="MinChanges"/> changes on node A while clients log in and call on <paramref name="hammered"/>
    /// (and keep sessions opened on A and through nginx): no request judged there may have been accepted with a
    /// credential a change had ended before the request was sent.
    /// </summary>
    internal static async Task AssertNothingStaleAsync(KeygateCluster cluster, ITestOutputHelper output, CancellationToken ct, params NodeProcess[] hammered)
    {
        var (org, initial) = await ProvisionAsync(cluster, hammered);
        var ledger = new TruthLedger(initial);
        var tally = new AcceptanceTally();
        var pool = new SessionPool();

        using var legacyA = KeygateCluster.Client(cluster.A.Address);
        using var providerA = cluster.Provider(cluster.A.Address);
        using var portalA = KeygateCluster.Client(cluster.A.Address, cookies: true);
        var targets = hammered.Select(n => KeygateCluster.Client(n.Address)).ToArray();
        using var nginx = KeygateCluster.Client(cluster.Nginx.Address);
        await portalA.PortalLoginAsync(org.Username, org.Password);
        var onA = new NodeHammer(legacyA, "A", org, ledger, pool, tally);
        var throughNginx = new NodeHammer(nginx, "nginx", org, ledger, pool, tally);
        var onTargets = targets.Select((c, i) => new NodeHammer(c, ((char)('B' + i)).ToString(), org, ledger, pool, tally)).ToArray();
        try
        {
            foreach (var opener in new[] { onA, throughNginx }.Concat(onTargets))
                for (var i = 0; i < 3; i++)
                    Assert.True(await opener.OpenSessionAsync() is not null, "a login with the provisioned key failed before any change\n" + cluster.Logs());

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var clients = Enumerable.Range(0, Clients).Select(i => Task.Run(() => onTargets[i % onTargets.Length].HammerAsync(i, stop.Token))).ToList();
            // Sessions keep being opened on node A and through nginx too, so the hammered nodes are also asked about sessions they never saw.
            clients.Add(Task.Run(() => onA.KeepASessionAsync(stop.Token)));
            clients.Add(Task.Run(() => throughNginx.KeepASessionAsync(stop.Token)));
            var churn = new KeyChurn(legacyA, providerA, portalA, org, ledger);
            var clock = Stopwatch.StartNew();
            Exception? failure = null;
            try { await churn.RunAsync(MinChanges, ChangeBudget, ct); }
            catch (Exception e) { failure = e; }
            var churnSeconds = clock.Elapsed.TotalSeconds;
            await stop.CancelAsync();
            await Task.WhenAll(clients);

            var verdict = tally.Judge(ledger);
            var report = $"{ledger.Changes} changes on node A in {churnSeconds:F1} s ({churn.Summary}); {Clients} clients on {hammered.Length} node(s)\n{verdict.Report()}";
            output.WriteLine(report);
            TestContext.Current.SendDiagnosticMessage(report);
            if (failure is not null) throw new Xunit.Sdk.XunitException($"The changes on node A stopped: {failure.Message}\n{report}\n{cluster.Logs()}");
            Assert.True(verdict.Judged >= 500, "too few requests to the hammered nodes could be judged for the run to prove anything\n" + report);
            Assert.True(verdict.Stale == 0, $"the hammered nodes accepted {verdict.Stale} requests after a change had made them invalid\n{report}");
        }
        finally
        {
            foreach (var t in targets) t.Dispose();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task AFailedLoginThroughNginxIsAuditedWithTheAddressNginxSawNotTheOneTheClientClaimed()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        using var provider = cluster.Provider(cluster.Nginx.Address);
        var (orgId, username) = await CreateOrgAsync(provider);

        // The client connects from 127.0.0.2 and claims to be 203.0.113.7. nginx appends what it saw, so the
        // node gets "203.0.113.7, 127.0.0.2" from 127.0.0.1, its known proxy, and must believe only the last entry:
        // the first was written by the client, whom nobody vouches for.
        var client = IPAddress.Parse("127.0.0.2");
        using var viaNginx = KeygateCluster.Client(cluster.Nginx.Address, from: client);
        await (await viaNginx.SendAsync(WrongPassword(username))).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Equal(["127.0.0.2"], await FailedLoginAddressesAsync(provider, orgId, 1, TestContext.Current.CancellationToken));

        // Straight to a node, the same claim comes from 127.0.0.2, which is no known proxy: the header is ignored.
        using var direct = KeygateCluster.Client(cluster.B.Address, from: client);
        await (await direct.SendAsync(WrongPassword(username))).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        Assert.Equal(["127.0.0.2", "127.0.0.2"], await FailedLoginAddressesAsync(provider, orgId, 2, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("regenerate")]
    [InlineData("disable")]
    [InlineData("logout")]
    public async Task AChangeOnNodeAStopsForwardingOnNodeBAtOnce(string change)
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        using var providerA = cluster.Provider(cluster.A.Address);
        var org = await Scenario.CreateOrgAsync(providerA, providerA);
        if (change == "regenerate")
            await (await providerA.PatchAsync($"/provider/v1/organizations/{org.Id}", Scenario.Json(new { endSessionsOnKeyChange = true }))).AssertOk();
        using var portal = KeygateCluster.Client(cluster.A.Address, cookies: true);
        await portal.PortalLoginAsync(org.Username, org.Password);
        var key = Scenario.KeyValueOnPage(await portal.GetStringAsync(PortalSession.KeyPage)) ?? throw new InvalidOperationException("no key on the key page");
        using var login = KeygateCluster.Client(cluster.B.Address);
        var loggedIn = await login.LoginAsync(org.Username, org.Password, key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await loggedIn.AssertOk();
        var session = Scenario.SessionIdOf(loggedIn)!;
        using var onA = KeygateCluster.Client(cluster.A.Address);
        using var onB = KeygateCluster.Client(cluster.B.Address);
        onA.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={session}");
        onB.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={session}");
        // Node B forwards for this session, so the session and the org are in its memory when the change comes.
        for (var i = 0; i < 3; i++) await (await onB.GetAsync("/api/v1/ecgroup")).AssertOk();

        switch (change)
        {
            case "regenerate": await (await onA.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk(); break;
            case "disable":
                await (await providerA.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
                    Scenario.Json(new { reason = "OTHER", note = "multi-node gateway test" }))).AssertOk();
                break;
            case "logout": Assert.Equal(HttpStatusCode.NoContent, (await onA.DeleteAsync("/api/v1/auth")).StatusCode); break;
        }
        var forwarded = cluster.Upstream.ApiCalls;
        for (var i = 0; i < 20; i++)
        {
            var refused = await onB.GetAsync(i % 2 == 0 ? "/api/v1/ecgroup" : "/api/v1/provUrl");
            if (change == "disable") await refused.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
            else await refused.AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        }
        Assert.Equal(forwarded, cluster.Upstream.ApiCalls);
    }

    /// <summary>An org with a SUPER_ADMIN, created by the operator (no subscription yet).</summary>
    private static async Task<(long Id, string Username)> CreateOrgAsync(HttpClient provider)
    {
        var username = Scenario.Unique("admin");
        var created = await (await provider.PostAsync("/provider/v1/organizations", Scenario.Json(new
        {
            name = "Cluster " + Guid.NewGuid().ToString("N")[..8], admin = new { username, password = Scenario.Password },
        }))).AssertOk(HttpStatusCode.Created);
        return (created.GetProperty("id").GetInt64(), username);
    }

    private static HttpRequestMessage WrongPassword(string username)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString();
        var login = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth")
        {
            Content = Scenario.Json(new { apiKey = "AbCdEfGh1234", username, password = "not the password", timestamp = ts }),
        };
        login.Headers.Add("X-Forwarded-For", "203.0.113.7");
        return login;
    }

    /// <summary>The client addresses of the org's failed-password audit events, once there are <paramref name="count"/> (they are written off the hot path).</summary>
    private static async Task<string[]> FailedLoginAddressesAsync(HttpClient provider, long orgId, int count, CancellationToken ct)
    {
        string[] addresses = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(100, ct))
        {
            var page = await (await provider.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).AssertOk();
            addresses = page.GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("action").GetString() == "session.login" && e.GetProperty("outcome").GetString() == "INVALID_USERNAME_OR_PASSWORD")
                .Select(e => e.GetProperty("clientAddress").GetString()!).ToArray();
            if (addresses.Length >= count) break;
        }
        return addresses;
    }

    /// <summary>
    /// The org, provisioned through nginx with the operator token: raised limits, sessions ended on key change,
    /// an active subscription. Its key value is read where its admin would read it, in the portal.
    /// </summary>
    private static async Task<(TestOrg Org, OrgTruth Initial)> ProvisionAsync(KeygateCluster cluster, NodeProcess[] hammered)
    {
        using var provider = cluster.Provider(cluster.Nginx.Address);
        var (id, username) = await CreateOrgAsync(provider);
        var orgPath = $"/provider/v1/organizations/{id}";
        await (await provider.PutAsync(orgPath + "/limits", Scenario.Json(Scenario.RaisedLimits))).AssertOk();
        await (await provider.PatchAsync(orgPath, Scenario.Json(new { endSessionsOnKeyChange = true }))).AssertOk();
        var org = await (await provider.PutAsync(orgPath + "/subscription", Scenario.Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
        var keyId = org.GetProperty("keys")[0].GetProperty("id").GetInt64();

        // nginx spread those calls over both nodes, and a node keeps the org as it stood after the last call it
        // served. Repeating the last setting on each node directly makes both start from the provisioned org, so
        // the run measures the changes below, not the provisioning (which needs the same cross-node invalidation).
        foreach (var node in hammered.Prepend(cluster.A).Append(cluster.B).Distinct())
        {
            using var direct = cluster.Provider(node.Address);
            await (await direct.PatchAsync(orgPath, Scenario.Json(new { endSessionsOnKeyChange = true }))).AssertOk();
        }

        using var portal = KeygateCluster.Client(cluster.A.Address, cookies: true);
        await portal.PortalLoginAsync(username, Scenario.Password);
        var value = Scenario.KeyValueOnPage(await portal.GetStringAsync(PortalSession.KeyPage))
            ?? throw new InvalidOperationException("The portal shows no key after provisioning.");
        return (new TestOrg(id, username, Scenario.Password, keyId), new OrgTruth(0, "provisioned", keyId, value, null, 0, false, false));
    }
}
