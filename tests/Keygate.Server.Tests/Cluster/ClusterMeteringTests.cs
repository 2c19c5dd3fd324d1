using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Keygate.Tests;

/// <summary>
/// Contract A5 across nodes (issue 6, "counts are exact across nodes"): in-process nodes on one PostgreSQL
/// database and one Redis, calls spread over them. Until cross-node invalidation lands, a node may not see a
/// key another node disabled, so these tests assert what the counters decide, not each node's key state.
/// </summary>
public sealed class ClusterMeteringTests
{
    private static object Limits(long calls, int lightPerSecond = 100_000, int heavyPerMinute = 100_000, int warnAtPercent = 80) => new
    {
        callThreshold = new { calls, windowSeconds = 86400, warnAtPercent },
        rates = new
        {
            light = new { perSecond = lightPerSecond, perHour = 10_000_000 },
            medium = new { perSecond = 100_000, perHour = 10_000_000 },
            heavy = new { perMinute = heavyPerMinute, perHour = 10_000_000 },
        },
    };

    /// <summary>An org with the given limits, set before any node has read it, and a session opened on each node.</summary>
    private static async Task<(TestOrg Org, HttpClient[] Sessions)> OrgAsync(object limits, params KeygateApp[] nodes)
    {
        var org = await nodes[0].CreateOrgAsync(defaultLimits: true);
        await (await nodes[0].Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(limits))).AssertOk();
        var sessions = new HttpClient[nodes.Length];
        for (var i = 0; i < nodes.Length; i++) sessions[i] = await nodes[i].SessionAsync(org);
        return (org, sessions);
    }

    /// <summary>
    /// Sends the calls 16 at a time, taking turns over the nodes' sessions. (The nodes share the test process's
    /// PostgreSQL pool, and a node that has not seen another's disable yet goes to the database for each refusal.)
    /// </summary>
    private static async Task<HttpResponseMessage[]> SpreadAsync(HttpClient[] sessions, int calls, Func<HttpClient, Task<HttpResponseMessage>>? call = null)
    {
        call ??= s => s.GetAsync("/api/v1/apiKeys");
        using var inFlight = new SemaphoreSlim(16);
        return await Task.WhenAll(Enumerable.Range(0, calls).Select(async i =>
        {
            await inFlight.WaitAsync();
            try { return await call(sessions[i % sessions.Length]); }
            finally { inFlight.Release(); }
        }));
    }

    /// <summary>
    /// A cluster node whose Redis calls may take long before they count as failed: on a busy test machine a
    /// call over the default 250 ms would fall back to the database, and (its reply lost, not its effect) count twice.
    /// </summary>
    private static KeygateApp Node(string? redis = null, string? sandboxUpstream = null) =>
        KeygateApp.ClusterNode(new()
        {
            ["Keygate:Redis:TimeoutMilliseconds"] = "5000",
            ["Keygate:Sandbox:UpstreamUrl"] = sandboxUpstream,
        }, redis);

    private static int Ok(HttpResponseMessage[] answers) => answers.Count(r => r.StatusCode == HttpStatusCode.OK);

    private static async Task AssertRefusedByTheThreshold(HttpResponseMessage[] answers)
    {
        foreach (var r in answers.Where(r => r.StatusCode != HttpStatusCode.OK)) await r.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    /// <summary>Asks the database: the node that disabled the key may not be the one asked.</summary>
    private static async Task AssertThresholdDisabled(KeygateApp node, TestOrg org)
    {
        await using var scope = node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(DisabledReason.THRESHOLD_EXCEEDED, await db.ApiKeys.Where(k => k.Id == org.KeyId).Select(k => k.DisabledReason).SingleAsync());
    }

    private static long DatabaseDecisions(params KeygateApp[] nodes) => nodes.Sum(n => n.Service<RedisUsageCounter>().DatabaseDecisions);

    [Fact]
    public async Task ParallelCallsOverThreeNodesDisableTheKeyAtExactlyTheThreshold()
    {
        using var a = Node();
        using var b = KeygateApp.Peer(a);
        using var c = KeygateApp.Peer(a);
        var (org, sessions) = await OrgAsync(Limits(calls: 45), a, b, c);

        var answers = await SpreadAsync(sessions, 120);

        Assert.Equal(45, Ok(answers));
        await AssertRefusedByTheThreshold(answers);
        await AssertThresholdDisabled(a, org);
        Assert.Equal(0, DatabaseDecisions(a, b, c)); // every decision was Redis's
    }

    [Fact]
    public async Task RateLimitsHoldAcrossNodes()
    {
        using var a = Node();
        using var b = KeygateApp.Peer(a);
        var now = a.NowMs;
        a.Clock.Advance(TimeSpan.FromMilliseconds(60_000 - now % 60_000)); // the clock is shared: a fresh minute for both
        var (_, sessions) = await OrgAsync(Limits(calls: 1_000_000, lightPerSecond: 3, heavyPerMinute: 1), a, b);

        var light = await SpreadAsync(sessions, 10);
        Assert.Equal(3, Ok(light));
        foreach (var r in light.Where(r => r.StatusCode != HttpStatusCode.OK))
            Assert.Equal("Rate Limit (3/SECOND) exceeded", (await r.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED")).GetProperty("message").GetString());

        a.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, Ok(await SpreadAsync(sessions, 10)));

        // Heavy calls: one per minute for the org, whichever node answers it (404: the key id does not exist).
        var heavy = await SpreadAsync(sessions, 6, s => s.DeleteAsync("/api/v1/apiKeys/999999999"));
        Assert.Single(heavy, r => r.StatusCode == HttpStatusCode.NotFound);
        Assert.Equal(5, heavy.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task TheWarningIsAuditedOnceAcrossNodes()
    {
        using var a = Node();
        using var b = KeygateApp.Peer(a);
        var (org, sessions) = await OrgAsync(Limits(calls: 20), a, b);

        Assert.Equal(20, Ok(await SpreadAsync(sessions, 20)));

        var audit = await (await a.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        var warnings = audit.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("action").GetString() == "usage.warning").ToList();
        Assert.Single(warnings);
    }

    [Fact]
    public async Task TheSandboxQuotaIsSharedByTheNodesAndAFileNotForwardedGivesItsShareBack()
    {
        await using var upstream = await SandboxUpstream.StartAsync();
        using var a = Node(sandboxUpstream: upstream.Url);
        // Node B has no upstream: it takes a submission's share, answers 503 and gives the share back.
        using var b = KeygateApp.Peer(a, new() { ["Keygate:Sandbox:UpstreamUrl"] = "" });
        var org = await a.CreateOrgAsync();
        await (await a.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(new { sandboxDailyQuota = 3 }))).AssertOk();
        using var session = await a.SessionAsync(org);
        var token = (await (await session.PostAsync("/api/v1/apiKeys", Scenario.Json(new { keyType = "SANDBOX_SUBMISSION" })))
            .AssertOk(HttpStatusCode.Created)).GetProperty("keyValue").GetString();
        Task<HttpResponseMessage> SubmitAsync(KeygateApp node) =>
            node.Client().PostAsync($"/zscsb/submit?api_token={token}", new ByteArrayContent(new byte[10]));

        await (await SubmitAsync(a)).AssertOk(HttpStatusCode.Created);
        await (await SubmitAsync(b)).AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED"); // one per second for the org
        a.Clock.Advance(TimeSpan.FromSeconds(1));
        await (await SubmitAsync(b)).AssertError(HttpStatusCode.ServiceUnavailable, "SANDBOX_UPSTREAM_NOT_CONFIGURED");
        for (var i = 0; i < 2; i++)
        {
            a.Clock.Advance(TimeSpan.FromSeconds(1));
            await (await SubmitAsync(a)).AssertOk(HttpStatusCode.Created);
        }
        a.Clock.Advance(TimeSpan.FromSeconds(1));
        var refused = await (await SubmitAsync(b)).AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.Equal("Rate Limit (3/DAY) exceeded", refused.GetProperty("message").GetString());

        var usage = await (await b.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk();
        Assert.Equal(3, usage.GetProperty("sandbox").GetProperty("usedToday").GetInt64());
        Assert.Equal(0, DatabaseDecisions(a, b));
    }

    [Fact]
    public async Task UsageHistoryAddsUpTheCallsOfEveryNode()
    {
        using var a = Node();
        using var b = KeygateApp.Peer(a);
        var (org, sessions) = await OrgAsync(Limits(calls: 1_000_000), a, b);

        for (var i = 0; i < 7; i++) await (await sessions[0].GetAsync("/api/v1/apiKeys")).AssertOk();
        for (var i = 0; i < 5; i++) await (await sessions[1].GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await sessions[1].PutAsync("/api/v1/ecAdminActivateStatus/activate", null)).AssertOk();
        await a.Service<RedisUsageCounter>().FlushAsync();
        await b.Service<RedisUsageCounter>().FlushAsync();

        await using var scope = a.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var buckets = await db.UsageBuckets.Where(x => x.OrganizationId == org.Id).ToListAsync();
        Assert.Equal(12, buckets.Sum(x => x.Light));
        Assert.Equal(1, buckets.Sum(x => x.Medium));
        // The durable copy of the threshold window has every node's calls as well.
        var threshold = await db.MeterWindows.SingleAsync(w => w.OrganizationId == org.Id && w.Name == "t");
        Assert.Equal(13, threshold.Count);
    }

    [Fact]
    public async Task RedisKilledCountingGoesOnExactlyInTheDatabaseAndResumesInRedisWhenItRestarts()
    {
        await using var o = await Outage.StartAsync(threshold: 30);
        Assert.Equal(0, DatabaseDecisions(o.A, o.B));

        await o.Redis.KillAsync();
        Assert.Equal(10, Ok(await SpreadAsync(o.Sessions, 10)));
        Assert.True(DatabaseDecisions(o.A) > 0 && DatabaseDecisions(o.B) > 0, "both nodes counted in the database");
        Assert.False(o.A.Service<RedisUsageCounter>().UsesRedis);

        // Redis comes back empty (no persistence): the org's hash is seeded from the database's counts.
        await o.RestartRedisAsync();
        var before = DatabaseDecisions(o.A, o.B);
        var answers = await SpreadAsync(o.Sessions, 20);
        Assert.Equal(10, Ok(answers)); // 10 + 10 + 10: the threshold holds over the whole window
        await AssertRefusedByTheThreshold(answers);
        await AssertThresholdDisabled(o.A, o.Org);
        Assert.Equal(before, DatabaseDecisions(o.A, o.B));
        Assert.True(await o.ThresholdCountInRedisAsync() > 30);
    }

    [Fact]
    public async Task TheThresholdHoldsExactlyWhileRedisIsDown()
    {
        await using var o = await Outage.StartAsync(threshold: 20);
        await o.Redis.KillAsync();

        var answers = await SpreadAsync(o.Sessions, 30);
        Assert.Equal(10, Ok(answers));
        await AssertRefusedByTheThreshold(answers);
        await AssertThresholdDisabled(o.A, o.Org);
    }

    [Fact]
    public async Task ARedisThatKeptItsDataGetsTheOutageCountsMergedAndAResetMadeMeanwhile()
    {
        await using var o = await Outage.StartAsync(threshold: 30, persistent: true);
        await o.Redis.KillAsync();
        Assert.Equal(10, Ok(await SpreadAsync(o.Sessions, 10)));

        // Redis reloads its 10 calls from its append-only file; the 10 made in the database are added to them.
        await o.RestartRedisAsync();
        Assert.Equal(20, await o.ThresholdCountInRedisAsync());
        Assert.Equal(10, Ok(await SpreadAsync(o.Sessions, 20)));
        await AssertThresholdDisabled(o.A, o.Org);

        // The provider's enable resets the window while Redis is down; Redis gets the reset when it is back.
        await o.Redis.KillAsync();
        await (await o.A.Provider().PostAsync($"/provider/v1/organizations/{o.Org.Id}/apiKeys/{o.Org.KeyId}/enable", null)).AssertOk();
        await (await o.Sessions[0].GetAsync("/api/v1/apiKeys")).AssertOk();
        await o.RestartRedisAsync();
        Assert.Equal(1, await o.ThresholdCountInRedisAsync());
        // Node A knows the key is enabled again (the enable ran there); B may not until invalidation lands.
        Assert.Equal(29, Ok(await SpreadAsync([o.Sessions[0]], 35)));
    }

    /// <summary>
    /// Two nodes on a private Redis, and an org with a session on each that has made 10 calls in Redis:
    /// the start of every outage test.
    /// </summary>
    private sealed class Outage : IAsyncDisposable
    {
        public required RedisProcess Redis { get; init; }
        public required KeygateApp A { get; init; }
        public required KeygateApp B { get; init; }
        public TestOrg Org { get; private set; } = null!;
        public HttpClient[] Sessions { get; private set; } = [];

        public static async Task<Outage> StartAsync(long threshold, bool persistent = false)
        {
            // Before any redis-server starts: a skipped test must leave no process behind.
            Assert.SkipUnless(KeygateApp.ClusterReady, KeygateApp.ClusterSkipReason);
            var redis = await RedisProcess.StartAsync(persistent);
            var a = Node(redis.Address);
            var o = new Outage { Redis = redis, A = a, B = KeygateApp.Peer(a) };
            try
            {
                (o.Org, o.Sessions) = await OrgAsync(Limits(threshold), o.A, o.B);
                Assert.Equal(10, Ok(await SpreadAsync(o.Sessions, 10)));
                return o;
            }
            catch
            {
                await o.DisposeAsync();
                throw;
            }
        }

        /// <summary>Starts Redis again on its port and waits (at most a minute) until both nodes have merged and count in Redis.</summary>
        public async Task RestartRedisAsync()
        {
            await Redis.RestartAsync();
            var until = DateTime.UtcNow.AddMinutes(1);
            while (!(A.Service<RedisUsageCounter>().UsesRedis && B.Service<RedisUsageCounter>().UsesRedis))
            {
                Assert.True(DateTime.UtcNow < until, "the nodes did not return to Redis within a minute");
                await Task.Delay(100);
            }
        }

        /// <summary>The calls Redis holds in the org's threshold window.</summary>
        public async Task<long> ThresholdCountInRedisAsync()
        {
            await using var c = await ConnectionMultiplexer.ConnectAsync(Redis.Address);
            return (long)await c.GetDatabase().HashGetAsync(A.Service<RedisLink>().Key("m:" + Org.Id), "t");
        }

        public async ValueTask DisposeAsync()
        {
            B.Dispose();
            A.Dispose();
            await Redis.DisposeAsync();
        }
    }
}
