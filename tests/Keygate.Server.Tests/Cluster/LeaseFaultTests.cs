using StackExchange.Redis;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 17's faults, with Keygate:Cluster:HotPath=Leases: nodes answer from memory under a lease that every change
/// waits on, and count from blocks of allowance reserved in Redis.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class LeaseFaultTests(LeaseCluster cluster) : IClassFixture<LeaseCluster>
{
    /// <summary>An org made on node A with <paramref name="limits"/>, and a session on each of the two nodes.</summary>
    private async Task<(TestOrg Org, HttpClient OnA, HttpClient OnB, HttpClient Provider)> OrgOnBothAsync(object limits)
    {
        var provider = cluster.Provider(cluster.A.Address);
        var org = await CreateOrgAsync(provider, provider);
        await (await provider.PutAsync($"/provider/v1/organizations/{org.Id}/limits", Json(limits))).AssertOk();
        using var portal = KeygateCluster.Client(cluster.A.Address, cookies: true);
        await portal.PortalLoginAsync(org.Username, org.Password);
        var key = KeyValueOnPage(await portal.GetStringAsync(PortalSession.KeyPage)) ?? throw new InvalidOperationException("no key on the key page");
        _key = key;
        return (org, await SessionAsync(cluster.A, org), await SessionAsync(cluster.B, org), provider);
    }

    private string? _key;

    /// <summary>A legacy session of the org on <paramref name="node"/>, with the key <see cref="OrgOnBothAsync"/> read.</summary>
    private async Task<HttpClient> SessionAsync(NodeProcess node, TestOrg org)
    {
        using var login = KeygateCluster.Client(node.Address);
        var r = await login.LoginAsync(org.Username, org.Password, _key!, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await r.AssertOk();
        var client = KeygateCluster.Client(node.Address);
        client.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={SessionIdOf(r)}");
        return client;
    }

    [Fact(Timeout = 180_000)]
    public async Task ANodePausedPastItsLeaseAcceptsNothingStaleWhenItResumesAndThenRecovers()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        var (org, _, onB, provider) = await OrgOnBothAsync(RaisedLimits);
        // Node B holds the org in memory and answers from it.
        for (var i = 0; i < 5; i++) await (await onB.GetAsync("/api/v1/apiKeys")).AssertOk();

        cluster.B.Pause(true);
        Task<HttpResponseMessage> queued;
        try
        {
            // The change cannot have B's acknowledgement: it returns once B's lease has ended.
            await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
                Json(new { reason = "OTHER", note = "node B is paused" }))).AssertOk();
            // A call that reaches B while it is stopped, answered the moment it resumes.
            queued = onB.GetAsync("/api/v1/apiKeys");
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        }
        finally { cluster.B.Pause(false); }

        await (await queued).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        for (var i = 0; i < 5; i++) await (await onB.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        // B recovers: it renews its lease and follows the next change like any node.
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        for (var i = 0; i < 5; i++) await (await onB.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "OTHER", note = "node B is back" }))).AssertOk();
        await (await onB.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }

    [Fact(Timeout = 180_000)]
    public async Task TheAllowanceAKilledNodeHeldComesBackToTheOtherNodesLessAtMostTheUnreportedBudget()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        const int threshold = 600, acceptedOnC = 10;
        var (org, _, onB, _) = await OrgOnBothAsync(ThresholdOnly(threshold));
        var c = await cluster.StartNodeAsync();
        try
        {
            using var onC = await SessionAsync(c, org);
            // Node C reserves a block (a sixth of what is left while A, B and C hold leases: 100, more than the calls it
            // accepts plus the budget) and accepts a few calls from it; then it dies (SIGKILL) holding the rest.
            for (var i = 0; i < acceptedOnC; i++) await (await onC.GetAsync("/api/v1/apiKeys")).AssertOk();
            c.Kill();
        }
        finally { await c.DisposeAsync(); }

        // Node B takes the calls one after another: once C's lease has ended, the unspent part of C's block comes back.
        var acceptedOnB = 0;
        HttpResponseMessage refused;
        while (true)
        {
            var r = await onB.GetAsync("/api/v1/apiKeys", TestContext.Current.CancellationToken);
            if (r.StatusCode != HttpStatusCode.OK) { refused = r; break; }
            acceptedOnB++;
            Assert.True(acceptedOnB <= threshold, "node B accepted more than the threshold");
        }
        await refused.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        TestContext.Current.TestOutputHelper?.WriteLine($"C accepted {acceptedOnC}, B accepted {acceptedOnB} of {threshold}");
        // Never past N; short of it by no more than what C may have spent unreported.
        Assert.InRange(acceptedOnB, threshold - acceptedOnC - RedisUsageCounter.UnreportedBudget, threshold - acceptedOnC);
    }
}

/// <summary>Issue 17 on in-process nodes with Keygate:Cluster:HotPath=Leases: Redis restarted under load, and the threshold over blocks.</summary>
public sealed class LeaseMeteringTests
{
    private static readonly Dictionary<string, string?> Leases = new()
    {
        ["Keygate:Cluster:HotPath"] = "Leases",
        // A busy test machine must not turn a slow Redis reply into a fallback (which may count a call twice).
        ["Keygate:Redis:TimeoutMilliseconds"] = "5000",
    };

    [Fact]
    public async Task ARedisRestartedUnderLoadLosesNoChangeAndNoCall()
    {
        await using var redis = await RedisProcess.StartAsync();
        using var a = KeygateApp.ClusterNode(Leases, redis.Address);
        using var b = KeygateApp.Peer(a);
        var org = await a.CreateOrgAsync();
        using var onA = await a.SessionAsync(org);
        using var onB = await b.SessionAsync(org);

        using var stop = new CancellationTokenSource();
        var accepted = 0;
        var load = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                if ((await (i % 2 == 0 ? onA : onB).GetAsync("/api/v1/apiKeys")).StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref accepted);
        })).ToArray();
        await Task.Delay(500);
        await redis.RestartAsync(); // empty: no persistence
        await Task.Delay(500);
        await (await a.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "OTHER", note = "after the restart" }))).AssertOk();
        // The change returned: no node accepts the key any more.
        for (var i = 0; i < 10; i++)
        {
            await (await onB.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
            await (await onA.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Every accepted call is in the durable count once, whichever way it was counted.
        await a.Service<RedisUsageCounter>().FlushAsync();
        await b.Service<RedisUsageCounter>().FlushAsync();
        await using var scope = a.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var counted = await db.MeterWindows.Where(w => w.OrganizationId == org.Id && w.Name == "t").SumAsync(w => w.Count);
        Assert.True(accepted > 0, "no call was accepted before the change");
        Assert.Equal(accepted, counted);
    }

    [Fact]
    public async Task ACallThatFindsTheThresholdHeldInAnotherNodesBlockHasItGivenBackAndNothingIsRefusedBeforeN()
    {
        // A block goes back on its own only after ten idle minutes, and the test clock stands still, so no window ends:
        // what node B needs of node A's block, B's calls must ask for.
        using var a = KeygateApp.ClusterNode(new(Leases) { ["Keygate:Cluster:BlockIdleMilliseconds"] = "600000" });
        using var b = KeygateApp.Peer(a);
        var org = await a.CreateOrgAsync();
        const int threshold = 400;
        // No warning before the last call, so blocks are not held back short of it; the rates out of the way.
        await (await a.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Json(new
        {
            callThreshold = new { calls = threshold, windowSeconds = 86400, warnAtPercent = 100 },
            rates = new { light = new { perSecond = 100_000, perHour = 100_000_000 } },
        }))).AssertOk();
        using var onA = await a.SessionAsync(org);
        using var onB = await b.SessionAsync(org);

        // Node A accepts one call from a block of a quarter of the allowance, and keeps the rest of it. A node counts
        // from blocks only under a live lease, which a node just started may not hold yet.
        for (var until = DateTime.UtcNow.AddSeconds(10); !a.Service<NodeLease>().Live || !b.Service<NodeLease>().Live; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < until, "the nodes hold no live lease");
        await (await onA.GetAsync("/api/v1/apiKeys")).AssertOk();
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(KeygateApp.RedisServer!))
            Assert.Equal(1, await redis.GetDatabase().HashLengthAsync(a.Service<RedisLink>().Key("m:" + org.Id + ":r")));
        var acceptedOnB = 0;
        HttpResponseMessage refused;
        while (true)
        {
            var r = await onB.GetAsync("/api/v1/apiKeys");
            if (r.StatusCode != HttpStatusCode.OK) { refused = r; break; }
            Assert.True(++acceptedOnB <= threshold, "node B accepted more than the threshold");
        }

        // Refused only once nothing was left anywhere: as a disabled key, not as a rate limit while A held the rest.
        await refused.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(threshold - 1, acceptedOnB);
        Assert.True(a.Service<RedisUsageCounter>().BlocksGivenBackOnRequest > 0, "node A gave nothing back on request");
        Assert.Equal(0, a.Service<RedisUsageCounter>().DatabaseDecisions + b.Service<RedisUsageCounter>().DatabaseDecisions);
    }

    [Fact]
    public async Task AReservationWhoseAnswerWasLostIsGivenBackWholeOnceRedisAnswers()
    {
        Assert.SkipUnless(KeygateApp.ClusterReady, KeygateApp.ClusterSkipReason);
        await using var redis = await RedisProcess.StartAsync();
        using var node = KeygateApp.ClusterNode(new(Leases) { ["Keygate:Redis:TimeoutMilliseconds"] = "150" }, redis.Address);
        var org = await node.CreateOrgAsync();
        using var session = await node.SessionAsync(org);
        var counter = node.Service<RedisUsageCounter>();
        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var db = direct.GetDatabase();
        var records = node.Service<RedisLink>().Key("m:" + org.Id + ":r");
        var hash = node.Service<RedisLink>().Key("m:" + org.Id);
        // A first call seeds the org's meter in Redis and reserves a block; once the org is idle the block goes
        // back, so the next call must reserve.
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        // And the node's lease is live (a busy machine may delay its renewal): only then are calls counted from blocks.
        var lease = node.Service<NodeLease>();
        for (var idle = DateTime.UtcNow.AddSeconds(10); await db.HashLengthAsync(records) > 0 || !lease.Live; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < idle, "the first call's block did not go back when the org went idle, or the lease is not live");

        redis.Pause(true);
        try
        {
            // The call's reservation reaches a silent Redis and times out; the call is decided in the database.
            await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
            Assert.True(counter.UnsettledCount > 0, "the call did not try to reserve a block");
        }
        finally { redis.Pause(false); }

        // Redis runs the reservation as it resumes, for a node that never heard of it. Without another call, the
        // block must come back: no record left, nothing held in the threshold window.
        var until = DateTime.UtcNow.AddSeconds(10);
        while (counter.UnsettledCount > 0 || await db.HashLengthAsync(records) > 0 || (long?)await db.HashGetAsync(hash, "to") > 0)
        {
            Assert.True(DateTime.UtcNow < until, $"the lost reservation's block is still held in Redis ({await db.HashLengthAsync(records)} record(s), {counter.UnsettledCount} unsettled)");
            await Task.Delay(50);
        }
        Assert.False(counter.FallbackActive);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ParallelCallsOverTheNodesDisableTheKeyAtExactlyTheThresholdWithBlocksReserved(int nodes)
    {
        using var a = KeygateApp.ClusterNode(Leases);
        var peers = Enumerable.Range(1, nodes - 1).Select(_ => KeygateApp.Peer(a)).ToArray();
        try
        {
            var org = await a.CreateOrgAsync();
            await (await a.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Json(ThresholdOnly(300)))).AssertOk();
            var sessions = new List<HttpClient> { await a.SessionAsync(org) };
            foreach (var p in peers) sessions.Add(await p.SessionAsync(org));

            using var inFlight = new SemaphoreSlim(16);
            var answers = await Task.WhenAll(Enumerable.Range(0, 420).Select(async i =>
            {
                await inFlight.WaitAsync();
                try { return await sessions[i % nodes].GetAsync("/api/v1/apiKeys"); }
                finally { inFlight.Release(); }
            }));

            Assert.Equal(300, answers.Count(r => r.StatusCode == HttpStatusCode.OK));
            foreach (var r in answers.Where(r => r.StatusCode != HttpStatusCode.OK)) await r.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
            await using var scope = a.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            Assert.Equal(DisabledReason.THRESHOLD_EXCEEDED, await db.ApiKeys.Where(k => k.Id == org.KeyId).Select(k => k.DisabledReason).SingleAsync());
            Assert.Equal(0, peers.Prepend(a).Sum(n => n.Service<RedisUsageCounter>().DatabaseDecisions));
        }
        finally
        {
            foreach (var p in peers) p.Dispose();
        }
    }
}
