using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Two in-process nodes on one PostgreSQL database and one Redis (issue 6): a change that returned on
/// node A is refused on node B at the very next request, and sessions are one pool shared by both nodes.
/// The OS-process version behind nginx is MultiNodeTests; Redis outages are here because the test owns
/// its Redis server.
/// </summary>
public sealed class ClusterInvalidationTests
{
    // The loops log in with the value a change just replaced, on purpose: that must not lock the admin out.
    private static readonly Dictionary<string, string?> LoopSettings = new() { ["Keygate:LoginThrottle:FailuresPerUsername"] = "10000" };

    private static async Task<(TestOrg Org, string Key)> NewOrgAsync(KeygateApp a, bool endSessionsOnKeyChange = true)
    {
        var org = await a.CreateOrgAsync();
        await (await a.Provider().PatchAsync($"/provider/v1/organizations/{org.Id}", Json(new { endSessionsOnKeyChange }))).AssertOk();
        return (org, await a.KeyValueAsync(org));
    }

    private static async Task<string> SessionOnAsync(KeygateApp node, TestOrg org, string key)
    {
        var r = await node.LoginAsync(org.Username, org.Password, key);
        await r.AssertOk();
        return SessionIdOf(r)!;
    }

    private static Task<HttpResponseMessage> CallAsync(KeygateApp node, string session) =>
        node.SessionClient(session).GetAsync("/api/v1/apiKeys");

    [Fact]
    public async Task ASessionOpenedOnOneNodeWorksOnTheOtherAndALogoutOnEitherEndsItOnBoth()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);

        var s = await SessionOnAsync(a, org, key);
        await (await CallAsync(a, s)).AssertOk();
        await (await CallAsync(b, s)).AssertOk(); // b never saw the login: it finds the session in the database

        Assert.Equal(HttpStatusCode.NoContent, (await b.SessionClient(s).DeleteAsync("/api/v1/auth")).StatusCode);
        await (await CallAsync(a, s)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await CallAsync(b, s)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task FailedLoginsOnOneNodeThrottleTheUsernameOnEveryNode()
    {
        // Per-node windows would let N nodes take N times the guesses; the windows live in Redis.
        var limit = new Dictionary<string, string?> { ["Keygate:LoginThrottle:FailuresPerUsername"] = "4" };
        using var a = KeygateApp.ClusterNode(limit);
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);

        for (var i = 0; i < 4; i++)
            await (await (i % 2 == 0 ? a : b).LoginAsync(org.Username, "wrong password", key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        foreach (var node in new[] { a, b })
        {
            var r = await node.LoginAsync(org.Username, org.Password, key);
            await r.AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
            Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single()) > 1);
        }
        a.Clock.Advance(TimeSpan.FromSeconds(901)); // the nodes share the clock
        await (await b.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    [Fact]
    public async Task APortalLogoutOnOneNodeRefusesACopyOfItsCookieOnTheOther()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, _) = await NewOrgAsync(a);
        using var onA = a.Client();
        using var onB = b.Client();
        var cookies = await onA.PortalLoginByHandAsync(org.Username, org.Password);
        Assert.Equal(HttpStatusCode.OK, (await onB.SendAsync(PortalSession.WithCookies(HttpMethod.Get, PortalSession.KeyPage, cookies.Both))).StatusCode);

        await onA.PortalLogoutByHandAsync(cookies);
        await onA.AssertSentToLoginAsync(cookies);
        await onB.AssertSentToLoginAsync(cookies);
    }

    [Fact]
    public async Task EndAllOnOneNodeEndsTheSessionsEveryNodeHoldsAndThePortalListsThemAll()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);
        var onA = await SessionOnAsync(a, org, key);
        var onB = await SessionOnAsync(b, org, key);
        await (await CallAsync(a, onA)).AssertOk();
        await (await CallAsync(b, onB)).AssertOk();
        await (await CallAsync(a, onB)).AssertOk();

        using var portal = await a.PortalLoginAsync(org.Username, org.Password);
        var page = await portal.GetStringAsync("/admin/sessions");
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(page, "<td>" + org.Username).Count); // both nodes' sessions

        var ended = await portal.PostFormAsync("/admin/sessions", "/admin/sessions?handler=EndAll", []);
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        foreach (var node in new[] { a, b })
        foreach (var s in new[] { onA, onB })
            await (await CallAsync(node, s)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task EveryKindOfChangeOnNodeAIsRefusedOnNodeBAtTheNextRequest()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);
        var provider = a.Provider();

        // Regenerate: the old value fails on B, the session it opened ends on B, the new value works on B.
        var onB = await SessionOnAsync(b, org, key);
        await (await CallAsync(b, onB)).AssertOk();
        var mine = await SessionOnAsync(a, org, key);
        var regenerated = await (await a.SessionClient(mine).PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        var next = regenerated.GetProperty("keyValue").GetString()!;
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await b.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        onB = await SessionOnAsync(b, org, next);

        // Disable by the provider, then enable: B follows both at once.
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "TERMS_VIOLATION", note = "cluster test" }))).AssertOk();
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await b.LoginAsync(org.Username, org.Password, next)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        await (await CallAsync(b, onB)).AssertOk();

        // Expiry set on A: B refuses at once; renewal brings it back.
        var past = a.Clock.GetUtcNow().ToUnixTimeSeconds() - 1;
        await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/subscription", Json(new { enabled = true, expiresAt = past }))).AssertOk();
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/subscription", Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
        await (await CallAsync(b, onB)).AssertOk();

        // Delete on A: the key and its sessions are gone on B.
        mine = await SessionOnAsync(a, org, next);
        Assert.Equal(HttpStatusCode.NoContent, (await a.SessionClient(mine).DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).StatusCode);
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await b.LoginAsync(org.Username, org.Password, next)).AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
    }

    [Fact]
    public async Task SixtyChangesInARowAreEachSeenByTheOtherNodeAtTheNextRequest()
    {
        using var a = KeygateApp.ClusterNode(LoopSettings);
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);
        await WaitTrustedAsync(a, b);
        var stale = await ChangeLoopAsync(a, b, org, key, 60);
        Assert.Equal(0, stale);
    }

    /// <summary>
    /// Redis stops: changes still return (after waiting out the nodes' trust in Redis), and the other node,
    /// now reading versions from the database, refuses the old state at once. Redis comes back (empty, as a
    /// restarted Redis without persistence is): the nodes take it up again, and still nothing stale passes.
    /// </summary>
    [Fact]
    public async Task RedisDownTheNodesUseTheDatabaseAndTakeRedisUpAgainWhenItReturns()
    {
        await using var redis = await RedisProcess.StartAsync();
        using var a = KeygateApp.ClusterNode(LoopSettings, redis.Address);
        using var b = KeygateApp.Peer(a);
        var (org, key) = await NewOrgAsync(a);
        await WaitTrustedAsync(a, b);
        key = await ChangeLoopAsync(a, b, org, key, 5) == 0 ? await a.KeyValueAsync(org) : throw new Xunit.Sdk.XunitException("stale before the outage");

        await redis.KillAsync();
        Assert.Equal(0, await ChangeLoopAsync(a, b, org, key, 6));
        Assert.False(a.Service<SharedVersions>().Trusted);
        Assert.False(b.Service<SharedVersions>().Trusted);
        key = await a.KeyValueAsync(org);

        await redis.RestartAsync();
        await WaitTrustedAsync(a, b);
        Assert.Equal(0, await ChangeLoopAsync(a, b, org, key, 10));
    }

    /// <summary>
    /// A node killed between its commit and its publish: the change is in the database but Redis never got
    /// its version. The request never returned, so nothing was promised yet; still, every node must see the
    /// change within seconds, not at the org's next change. Simulated by committing a disable straight into
    /// the database, the way that writer's transaction would have.
    /// </summary>
    [Fact]
    public async Task AChangeCommittedByAWriterThatDiedBeforePublishingReachesEveryNodeWithinSeconds()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, onB) = await OrgHeldByBAsync(a, b);

        using (var scope = a.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.ApiKeys.Where(k => k.Id == org.KeyId).ExecuteUpdateAsync(u => u
                .SetProperty(k => k.DisabledReason, DisabledReason.OTHER).SetProperty(k => k.DisabledByKind, DisablerKind.Operator));
            await db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(u => u
                .SetProperty(o => o.StateVersion, o => o.StateVersion + 1).SetProperty(o => o.StateChangedAtMs, a.NowMs));
            await tx.CommitAsync();
        }

        var clock = Stopwatch.StartNew();
        while ((await CallAsync(b, onB)).IsSuccessStatusCode)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "node B still accepts the key 15 s after the disable was committed");
            await Task.Delay(100);
        }
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    /// <summary>
    /// One Redis round trip per call on an org that did not change: the version check rides in the counter's
    /// script, and a version is read on its own only after a change (or while Redis is not trusted).
    /// </summary>
    [Fact]
    public async Task ACallChecksTheOrgsVersionInTheSameRedisRoundTripAsItsCount()
    {
        // The per-call script's own promise; with leases a call reads no version at all.
        using var a = KeygateApp.ClusterNode(new() { ["Keygate:Cluster:HotPath"] = "PerCallScript" });
        using var b = KeygateApp.Peer(a);
        var (org, onB) = await OrgHeldByBAsync(a, b);

        var before = await VersionReadsAsync(b);
        for (var i = 0; i < 100; i++) await (await CallAsync(b, onB)).AssertOk();
        // Before: one read per call (100). A node whose trust in Redis lapses for a moment reads a few.
        Assert.InRange(await VersionReadsAsync(b) - before, 0, 10);

        // A change still reaches b at its next call.
        await (await a.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "OTHER", note = "one round trip" }))).AssertOk();
        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    /// <summary>The node's count of lone version reads; the counter must be there (b has read versions to hold the org), so a renamed one fails.</summary>
    private static async Task<long> VersionReadsAsync(KeygateApp node)
    {
        var metrics = await node.Client().GetStringAsync("/metrics");
        var m = System.Text.RegularExpressions.Regex.Match(metrics, @"(?m)^keygate_cluster_version_reads_total(\{\})? (\d+)( \d+)?$");
        Assert.True(m.Success, "/metrics has no keygate_cluster_version_reads_total:\n" + metrics);
        return long.Parse(m.Groups[2].Value);
    }

    /// <summary>
    /// A node's call checks its snapshot's version in the same Redis script that counts it. Version keys expire a
    /// day after the org's last change, so a node can hold a snapshot older than a change whose key is gone: a
    /// missing version must send it to the database, never count as "nothing newer".
    /// </summary>
    [Fact]
    public async Task AVersionRedisNoLongerHoldsIsReadFromTheDatabaseNotTakenAsCurrent()
    {
        using var a = KeygateApp.ClusterNode();
        using var b = KeygateApp.Peer(a);
        var (org, onB) = await OrgHeldByBAsync(a, b);

        await (await a.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "OTHER", note = "expired version key" }))).AssertOk();
        Assert.True(a.Service<SharedVersions>().TryVersionKey(org.Id, out var versionKey));
        Assert.True(await a.Service<RedisLink>().Db.KeyDeleteAsync(versionKey)); // as if its TTL had run out

        await (await CallAsync(b, onB)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    /// <summary>An org on two nodes that trust Redis, with a session opened on B and used once, so B holds its snapshot.</summary>
    private static async Task<(TestOrg Org, string OnB)> OrgHeldByBAsync(KeygateApp a, KeygateApp b)
    {
        var (org, key) = await NewOrgAsync(a);
        await WaitTrustedAsync(a, b);
        var onB = await SessionOnAsync(b, org, key);
        await (await CallAsync(b, onB)).AssertOk();
        return (org, onB);
    }

    private static async Task WaitTrustedAsync(params KeygateApp[] nodes)
    {
        var clock = Stopwatch.StartNew();
        while (!nodes.All(n => n.Service<SharedVersions>().Trusted))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the nodes did not take Redis up within 30 s: "
                + string.Join('\n', nodes[0].Logs.Where(l => l.Contains("Redis")).TakeLast(5)));
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Changes on A (regenerate, disable/enable, expire/renew, end all), each followed by requests to B with
    /// what the change just made invalid. Returns how many of those B accepted (must be 0).
    /// </summary>
    private static async Task<int> ChangeLoopAsync(KeygateApp a, KeygateApp b, TestOrg org, string key, int changes)
    {
        var provider = a.Provider();
        var stale = 0;
        var onB = await SessionOnAsync(b, org, key);
        for (var i = 0; i < changes; i++)
        {
            switch (i % 4)
            {
                case 0:
                    var mine = await SessionOnAsync(a, org, key);
                    var r = await (await a.SessionClient(mine).PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
                    var old = key;
                    key = r.GetProperty("keyValue").GetString()!;
                    if ((await CallAsync(b, onB)).IsSuccessStatusCode) stale++;
                    if ((await b.LoginAsync(org.Username, org.Password, old)).IsSuccessStatusCode) stale++;
                    onB = await SessionOnAsync(b, org, key);
                    break;
                case 1:
                    await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
                        Json(new { reason = "OTHER", note = $"loop {i}" }))).AssertOk();
                    if ((await CallAsync(b, onB)).IsSuccessStatusCode) stale++;
                    await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
                    await (await CallAsync(b, onB)).AssertOk();
                    break;
                case 2:
                    var past = a.Clock.GetUtcNow().ToUnixTimeSeconds() - 1;
                    await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/subscription", Json(new { enabled = true, expiresAt = past }))).AssertOk();
                    if ((await CallAsync(b, onB)).IsSuccessStatusCode) stale++;
                    await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/subscription", Json(new { enabled = true, expiresAt = (long?)null }))).AssertOk();
                    await (await CallAsync(b, onB)).AssertOk();
                    break;
                default:
                    var admin = await SessionOnAsync(a, org, key);
                    Assert.Equal(HttpStatusCode.NoContent, (await a.SessionClient(onB).DeleteAsync("/api/v1/auth")).StatusCode);
                    if ((await CallAsync(b, onB)).IsSuccessStatusCode) stale++;
                    await (await CallAsync(b, admin)).AssertOk();
                    onB = await SessionOnAsync(b, org, key);
                    break;
            }
        }
        return stale;
    }
}
