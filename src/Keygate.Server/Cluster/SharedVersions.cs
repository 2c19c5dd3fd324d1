using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;
using System.Diagnostics;

namespace Keygate.Cluster;

/// <summary>
/// Cross-node invalidation: the newest committed StateVersion of every org, shared by all nodes in Redis and
/// read on every call. A writer publishes the new version after its commit and before it returns, so a
/// node that reads a version newer than its cached snapshot reloads the org from the database first.
///
/// Redis is trusted only while it provably holds every version: a node trusts it for a short lease after
/// checking that Redis's epoch equals the database's (<see cref="ClusterState"/>). Whenever Redis may have
/// missed a change (a publish failed, or Redis restarted), the database epoch moves on, so every node falls
/// back to reading versions from the database within one lease; a writer whose publish failed waits out
/// that lease before it returns. Version keys live under the epoch ("e{epoch}:v:{org}"), so a new epoch
/// starts empty and is filled from the database. The why, and the cost, are in docs/scale-out.md.
/// </summary>
public sealed class SharedVersions : BackgroundService
{
    // Real time on purpose: the lease is about how long another machine may still believe an old answer,
    // which the fake clock of the tests does not govern.
    internal static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan VerifyEvery = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan VersionTtl = TimeSpan.FromDays(1);
    // How far back the re-announcement looks: wider than any commit-to-publish gap, plus clock skew between nodes.
    private const long RepublishWindowMs = 15_000;

    // KEYS[1] = epoch key; ARGV = prefix, org id, version. Writes into the epoch Redis says is current, so
    // the nodes that trust Redis (they checked that same epoch) all see it. 0 = Redis has no epoch.
    private const string PublishScript = """
        local e = redis.call('GET', KEYS[1])
        if not e then return 0 end
        local k = ARGV[1] .. 'e' .. e .. ':v:' .. ARGV[2]
        local cur = tonumber(redis.call('GET', k) or '-1')
        if cur < tonumber(ARGV[3]) then redis.call('SET', k, ARGV[3], 'EX', ARGV[4]) end
        return 1
        """;

    // With leases (Keygate:Cluster:HotPath=Leases): the same, and the change is numbered in the epoch and sent to
    // every node, in that order. ARGV as above, then 1 to send even if Redis had the version, and the channel.
    // Returns {epoch, number}; {-1, 0} = Redis has no epoch; number 0 = nothing sent.
    private const string AnnounceScript = """
        local e = redis.call('GET', KEYS[1])
        if not e then return {-1, 0} end
        local p = ARGV[1] .. 'e' .. e .. ':'
        local k = p .. 'v:' .. ARGV[2]
        local newer = tonumber(redis.call('GET', k) or '-1') < tonumber(ARGV[3])
        if newer then redis.call('SET', k, ARGV[3], 'EX', ARGV[4]) end
        if not newer and ARGV[5] == '0' then return {tonumber(e), 0} end
        local seq = redis.call('INCR', p .. 'seq')
        redis.call('PUBLISH', ARGV[6], e .. ':' .. seq .. ':' .. ARGV[2] .. ':' .. ARGV[3])
        return {tonumber(e), seq}
        """;

    // KEYS = epoch key, version key; ARGV = epoch, database version. Keeps the larger of the two, so a
    // reader that loaded an older version from the database never overwrites a writer's. -1 = wrong epoch.
    private const string FillScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        local cur = tonumber(redis.call('GET', KEYS[2]) or '-1')
        local v = tonumber(ARGV[2])
        if cur >= v then return cur end
        redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
        return v
        """;

    // Epochs only move forward: a node that read the database before a bump must not set the older one.
    private const string RaiseEpochScript = """
        local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """;

    private readonly RedisLink _redis;
    private readonly IServiceScopeFactory _scopes;
    private readonly KeygateMetrics _metrics;
    private readonly ILogger<SharedVersions> _log;
    private readonly RedisKey _epochKey;
    private readonly string _ttlSeconds = ((long)VersionTtl.TotalSeconds).ToString();

    private long _epoch;
    private long _trustedUntil; // a Stopwatch timestamp; 0 means "use the database"
    private long _dbEpochSeen = -1;
    private long _dbEpochSeenAt;

    private readonly TimeProvider _clock;

    public SharedVersions(RedisLink redis, IServiceScopeFactory scopes, KeygateMetrics metrics, TimeProvider clock, ILogger<SharedVersions> log)
    {
        (_redis, _scopes, _metrics, _clock, _log) = (redis, scopes, metrics, clock, log);
        _epochKey = redis.Key("epoch");
        // A lost connection may come back to a restarted Redis: stop believing it before the next command.
        redis.Lost += Distrust;
    }

    /// <summary>True while versions are read from Redis; false while the node reads them from the database.</summary>
    public bool Trusted => Stopwatch.GetTimestamp() < Volatile.Read(ref _trustedUntil);

    /// <summary>The epoch Redis was last found to hold (meaningful while <see cref="Trusted"/>).</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Set by the node's lease when the node answers from memory (Keygate:Cluster:HotPath=Leases).</summary>
    internal NodeLease? Leases { get; set; }

    private void Distrust() => Volatile.Write(ref _trustedUntil, 0);

    private RedisKey VersionKey(long epoch, long orgId) => _redis.Prefix + "e" + epoch + ":v:" + orgId;

    /// <summary>
    /// The Redis key of the org's newest version while Redis is trusted, for a script that checks the version in
    /// the same round trip as its own work (<see cref="RedisUsageCounter"/>). A missing key there means "ask
    /// <see cref="CurrentAsync"/>", which fills it.
    /// </summary>
    public bool TryVersionKey(long orgId, out RedisKey key)
    {
        if (!Trusted)
        {
            key = default;
            return false;
        }
        key = VersionKey(Volatile.Read(ref _epoch), orgId);
        return true;
    }

    /// <summary>The newest committed StateVersion of the org, or -1 if there is no such org.</summary>
    public async ValueTask<long> CurrentAsync(long orgId, CancellationToken ct)
    {
        if (Trusted)
        {
            var epoch = Volatile.Read(ref _epoch);
            try
            {
                var key = VersionKey(epoch, orgId);
                // A round trip of its own; most calls check their version inside the counter's script instead.
                _metrics.ClusterVersionReads.Add(1);
                var cached = await _redis.Db.StringGetAsync(key);
                if (cached.HasValue) return (long)cached;
                // Not in this epoch yet: the database's version goes in, unless a writer's newer one got there first.
                var stored = await DatabaseVersionAsync(orgId, ct);
                if (stored < 0) return stored;
                var filled = (long)await _redis.Db.ScriptEvaluateAsync(FillScript, [_epochKey, key], [epoch, stored, _ttlSeconds]);
                if (filled >= 0) return filled;
                Distrust();
            }
            catch (Exception e) when (RedisLink.IsFailure(e))
            {
                Distrust();
            }
        }
        _metrics.ClusterVersionDatabaseReads.Add(1);
        return await DatabaseVersionAsync(orgId, ct);
    }

    /// <summary>
    /// Makes a committed version visible to every node; called after the commit and before the change returns.
    /// If Redis cannot take it, every node is moved to the database before this returns.
    /// </summary>
    public async Task PublishAsync(long orgId, long version)
    {
        try
        {
            if (Leases is { } leases)
            {
                var r = (RedisResult[])(await _redis.Db.ScriptEvaluateAsync(AnnounceScript, [_epochKey],
                    [_redis.Prefix, orgId, version, _ttlSeconds, 1, (RedisValue)leases.Channel.ToString()]))!;
                if ((long)r[0] >= 0 && await leases.AwaitAcksAsync((long)r[0], (long)r[1])) return;
            }
            else
            {
                var done = (long)await _redis.Db.ScriptEvaluateAsync(PublishScript, [_epochKey],
                    [_redis.Prefix, orgId, version, _ttlSeconds]);
                if (done == 1) return;
            }
        }
        catch (Exception e) when (RedisLink.IsFailure(e)) { }

        Distrust();
        _metrics.ClusterPublishFallbacks.Add(1);
        _log.LogWarning("Redis did not take a change of org {OrgId}; moving all nodes to the database", orgId);
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.ClusterStates.Where(s => s.Id == 1).ExecuteUpdateAsync(u => u.SetProperty(s => s.Epoch, s => s.Epoch + 1));
        }
        // Nodes that checked the old epoch just before the bump believe Redis for one more lease at most.
        await Task.Delay(Lease + Margin);
    }

    private async Task<long> DatabaseVersionAsync(long orgId, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var versions = await db.Organizations.AsNoTracking().Where(o => o.Id == orgId).Select(o => o.StateVersion).Take(1).ToListAsync(ct);
        return versions.Count == 0 ? -1 : versions[0];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await VerifyAsync(stoppingToken);
                if (Trusted) await RepublishRecentAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                Distrust();
                _log.LogDebug(e, "Could not check Redis against the database; versions come from the database");
            }
            try { await Task.Delay(VerifyEvery, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// A writer that died between its commit and its publish (a killed node) left a version Redis never got:
    /// its request never returned, but the change is there. Every node re-announces the versions that moved in
    /// the last seconds, so such a change reaches every node within one round instead of at the org's next change.
    /// </summary>
    internal async Task RepublishRecentAsync(CancellationToken ct)
    {
        var since = _clock.GetUtcNow().ToUnixTimeMilliseconds() - RepublishWindowMs;
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var recent = await db.Organizations.AsNoTracking().Where(o => o.StateChangedAtMs >= since)
            .Select(o => new { o.Id, o.StateVersion }).ToListAsync(ct);
        await Task.WhenAll(recent.Select(o => Leases is { } leases
            // Announced to the leaseholders only if Redis did not have it: a writer's own announcement waits for them.
            ? _redis.Db.ScriptEvaluateAsync(AnnounceScript, [_epochKey],
                [_redis.Prefix, o.Id, o.StateVersion, _ttlSeconds, 0, (RedisValue)leases.Channel.ToString()])
            : _redis.Db.ScriptEvaluateAsync(PublishScript, [_epochKey], [_redis.Prefix, o.Id, o.StateVersion, _ttlSeconds])));
    }

    /// <summary>
    /// Renews this node's trust in Redis when Redis's epoch is the database's, and otherwise moves the cluster
    /// to a fresh epoch that Redis is known to hold from its start.
    /// </summary>
    internal async Task VerifyAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var state = await db.ClusterStates.AsNoTracking().SingleAsync(s => s.Id == 1, ct);
        if (state.Epoch != _dbEpochSeen) (_dbEpochSeen, _dbEpochSeenAt) = (state.Epoch, started);

        var runId = _redis.IsUp ? await _redis.RunIdAsync() : null;
        if (runId is null) { Distrust(); return; }
        if (runId != state.RedisRunId)
        {
            // A Redis the cluster has not used (first start, or it restarted and may hold an old snapshot).
            Distrust();
            await db.ClusterStates.Where(s => s.Id == 1 && s.Epoch == state.Epoch)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Epoch, s => s.Epoch + 1).SetProperty(s => s.RedisRunId, runId), ct);
            _log.LogInformation("Redis {RunId} adopted; versions are read from the database until its epoch is set", runId);
            return;
        }
        var redisEpoch = await _redis.Db.StringGetAsync(_epochKey);
        if (redisEpoch != state.Epoch)
        {
            Distrust();
            // Only once no node can still believe the old epoch: the database has had this one for a lease.
            if (Stopwatch.GetElapsedTime(_dbEpochSeenAt) > Lease + Margin)
                await _redis.Db.ScriptEvaluateAsync(RaiseEpochScript, [_epochKey], [state.Epoch]);
            return;
        }
        Volatile.Write(ref _epoch, state.Epoch);
        Volatile.Write(ref _trustedUntil, started + (long)(Lease.TotalSeconds * Stopwatch.Frequency));
    }
}
