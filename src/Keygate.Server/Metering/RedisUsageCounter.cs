using Keygate.Cluster;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace Keygate.Metering;

/// <summary>
/// The cluster's counters (with Keygate:Redis): one Redis hash per org (<c>{prefix}m:{orgId}</c>) and every
/// decision one Lua script on it, so each is atomic, exact whichever node takes the call, and one round trip.
/// The scripts apply the rules of <see cref="Meter"/> to windows computed from the caller's clock, never
/// Redis's. The hash expires a while after the org's longest window once the org is idle. Cost per call: one
/// round trip (EVALSHA of a script doing a GET of the org's version, one HMGET, one HSET and a PEXPIRE) and a few additions in memory
/// under a per-org lock; the durable copy below is one batched statement per node every 2 seconds.
/// <para>
/// Durable copy: each node adds what it counted in Redis to <see cref="AppDbContext.MeterWindows"/> every
/// 2 seconds, with the usage history (<see cref="UsageHistory"/>), at shutdown, and at once when Redis fails.
/// A hash Redis does not have (Redis restarted without its data, or the hash expired) is seeded from those
/// rows by the first call that misses it; the scripts refuse to count in an unseeded hash.
/// </para>
/// <para>
/// Redis unreachable (<see cref="RedisLink.IsUp"/> false, or a call fails): the node counts in PostgreSQL
/// (<see cref="DatabaseUsageCounter"/>), which goes on from the saved counts. When Redis is back, the node adds
/// the counts made in the database to the matching Redis windows, each org under its database lock, before
/// it counts in Redis again; every node also merges what is left on its 2-second round.
/// </para>
/// <para>
/// Exactness holds within each path. At the moments of switching it rests on every node switching together:
/// a call counted in Redis by a node that has not yet saved it, or counted in the database by a node that has
/// not yet seen Redis return, is missing from the other path for those moments; and a call whose Redis reply
/// timed out may be counted in both (refusing early, never late).
/// </para>
/// </summary>
public sealed partial class RedisUsageCounter(RedisLink link, DatabaseUsageCounter database, UsageHistory history, SharedVersions versions,
    KeygateMetrics metrics, ILogger<RedisUsageCounter> log, IOptions<KeygateOptions> options, NodeLease? lease = null)
    : BackgroundService, IUsageCounter
{
    private const long Unseeded = -1;
    /// <summary>The TTL the scripts that do not know the threshold window give the hash (never shortening it).</summary>
    private const long DefaultTtl = Meter.Day + Meter.Hour;

    /// <summary>
    /// Checks the rate windows, then counts the call in both and in the threshold window. ARGV: the short and
    /// hour windows' fields, their starts and the threshold window's start, the two rate limits, the threshold,
    /// the warning count, the TTL, and with a second key (the org's version key, <see cref="SharedVersions"/>) the
    /// version the caller decided on. Returns -4 (that version is not the newest, or Redis has none yet: nothing
    /// counted), -1 (unseeded), -2 / -3 (short / hour window full), else calls × 2 + 1 if this call crossed the
    /// warning (once per threshold window, on whichever node).
    /// </summary>
    private const string CountScript = "local h, vk = KEYS[1], KEYS[2]\n" + CountRead + "\n" + CountDecide;

    /// <summary>The first half of a per-call count (<c>h</c> the org's hash, <c>vk</c> its version key or nil): the version check, then the windows' counts (<c>counts()</c> reads them again).</summary>
    private const string CountRead = """
        if vk then
          local newest = tonumber(redis.call('GET', vk) or '-1')
          if newest < 0 or newest > tonumber(ARGV[11]) then return -4 end
        end
        local function counts()
          local v = redis.call('HMGET', h, 'seed', ARGV[1], ARGV[1] .. '@', ARGV[2], ARGV[2] .. '@', 't', 't@', 'w')
          return v, tonumber(v[3]) == tonumber(ARGV[3]) and tonumber(v[2]) or 0, tonumber(v[5]) == tonumber(ARGV[4]) and tonumber(v[4]) or 0,
            (tonumber(v[7]) == tonumber(ARGV[5]) and tonumber(v[6]) or 0) + 1
        end
        local v, fast, slow, calls = counts()
        if not v[1] then return -1 end
        """;

    /// <summary>The second half: refuse on a full rate window, else count in all three and say whether the warning is crossed.</summary>
    private const string CountDecide = """
        if fast >= tonumber(ARGV[6]) then return -2 end
        if slow >= tonumber(ARGV[7]) then return -3 end
        local warn = 0
        if calls <= tonumber(ARGV[8]) and calls >= tonumber(ARGV[9]) and tonumber(v[8]) ~= tonumber(ARGV[5]) then warn = 1 end
        redis.call('HSET', h, ARGV[1], fast + 1, ARGV[1] .. '@', ARGV[3], ARGV[2], slow + 1, ARGV[2] .. '@', ARGV[4], 't', calls, 't@', ARGV[5])
        if warn == 1 then redis.call('HSET', h, 'w', ARGV[5]) end
        redis.call('PEXPIRE', h, ARGV[10])
        return calls * 2 + warn
        """;

    /// <summary>ARGV: the sandbox second, hour and day starts, the hourly limit, the daily quota, the TTL. Returns -1, -2/-3/-4 (which window is full) or the day's count.</summary>
    private const string TakeSandboxScript = """
        local h = KEYS[1]
        local v = redis.call('HMGET', h, 'seed', 'ss', 'ss@', 'sh', 'sh@', 'sd', 'sd@')
        if not v[1] then return -1 end
        local s = tonumber(v[3]) == tonumber(ARGV[1]) and tonumber(v[2]) or 0
        local hr = tonumber(v[5]) == tonumber(ARGV[2]) and tonumber(v[4]) or 0
        local d = tonumber(v[7]) == tonumber(ARGV[3]) and tonumber(v[6]) or 0
        if s >= 1 then return -2 end
        if hr >= tonumber(ARGV[4]) then return -3 end
        if d >= tonumber(ARGV[5]) then return -4 end
        redis.call('HSET', h, 'ss', s + 1, 'ss@', ARGV[1], 'sh', hr + 1, 'sh@', ARGV[2], 'sd', d + 1, 'sd@', ARGV[3])
        if redis.call('PTTL', h) < tonumber(ARGV[6]) then redis.call('PEXPIRE', h, ARGV[6]) end
        return d + 1
        """;

    /// <summary>ARGV: today's start. Returns -1, or 1 when a submission of today was given back.</summary>
    private const string ReturnSandboxScript = """
        local v = redis.call('HMGET', KEYS[1], 'seed', 'sd', 'sd@')
        if not v[1] then return -1 end
        if tonumber(v[3]) == tonumber(ARGV[1]) and (tonumber(v[2]) or 0) > 0 then
          redis.call('HINCRBY', KEYS[1], 'sd', -1)
          return 1
        end
        return 0
        """;

    /// <summary>ARGV: the TTL, then (field, window start, count) per saved row. Fills a hash Redis does not have; 0 if another node did first.</summary>
    private const string SeedScript = """
        local h = KEYS[1]
        if redis.call('HEXISTS', h, 'seed') == 1 then return 0 end
        for i = 2, #ARGV, 3 do
          if ARGV[i] == 'w' then redis.call('HSET', h, 'w', ARGV[i + 1])
          else redis.call('HSET', h, ARGV[i], ARGV[i + 2], ARGV[i] .. '@', ARGV[i + 1]) end
        end
        redis.call('HSET', h, 'seed', 1)
        if redis.call('PTTL', h) < tonumber(ARGV[1]) then redis.call('PEXPIRE', h, ARGV[1]) end
        return 1
        """;

    /// <summary>
    /// ARGV: the TTL, then (field, window start, count) per row with counts made in the database, the reset
    /// row first. Adds each count to its window if Redis is in the same one, starts the window if Redis is in an
    /// older one, drops it if Redis has moved on. 0 for an unseeded hash: its seed will read the full counts.
    /// </summary>
    private const string MergeScript = """
        local h = KEYS[1]
        if redis.call('HEXISTS', h, 'seed') == 0 then return 0 end
        for i = 2, #ARGV, 3 do
          local n, s, d = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
          if n == 'r' then redis.call('HSET', h, 't', 0, 'w', -1)
          elseif n == 'w' then
            if s > (tonumber(redis.call('HGET', h, 'w')) or -1) then redis.call('HSET', h, 'w', ARGV[i + 1]) end
          else
            local cur = tonumber(redis.call('HGET', h, n .. '@'))
            if cur == s then redis.call('HSET', h, n, math.max(0, (tonumber(redis.call('HGET', h, n)) or 0) + d))
            elseif cur == nil or cur < s then redis.call('HSET', h, n, math.max(0, d), n .. '@', ARGV[i + 1]) end
          end
        end
        if redis.call('PTTL', h) < tonumber(ARGV[1]) then redis.call('PEXPIRE', h, ARGV[1]) end
        return 1
        """;

    private static readonly RedisValue[] SlotFields = Meter.Names.Select(n => (RedisValue)n).ToArray();
    /// <summary>The fields a read takes: the seed mark, (count, start) per slot, the warned window.</summary>
    private static readonly RedisValue[] ReadFields =
        [(RedisValue)"seed", .. Meter.Names.SelectMany(n => new RedisValue[] { n, n + "@" }), (RedisValue)Meter.WarnedName];

    private readonly ConcurrentDictionary<long, OrgMeter> _meters = new();
    private readonly Func<long, OrgMeter> _newMeter = id => new OrgMeter(id, link.Key("m:" + id), history.For(id));
    private readonly SemaphoreSlim _recovering = new(1, 1);
    private int _fallback;
    private long _databaseDecisions;

    /// <summary>Whether this node counts in Redis now (false while it falls back to the database).</summary>
    /// <summary>True while this node counts in the database because Redis failed (the keygate_meter_redis_fallback_active gauge).</summary>
    public bool FallbackActive => Volatile.Read(ref _fallback) == 1;

    public bool UsesRedis => Volatile.Read(ref _fallback) == 0 && link.IsUp;

    /// <summary>How many decisions this node has taken in the database since it started.</summary>
    public long DatabaseDecisions => Interlocked.Read(ref _databaseDecisions);

    private sealed class OrgMeter(long orgId, RedisKey key, UsageHistory.Hours history)
    {
        public readonly long OrgId = orgId;
        public readonly RedisKey[] Keys = [key];
        public readonly UsageHistory.Hours History = history;
        /// <summary>What this node counted in Redis and has not yet saved to the database, by slot.</summary>
        public readonly Meter.Window[] Unsaved = new Meter.Window[Meter.Slots];
        public long WarnedUnsaved = -1;
        public bool Dirty;
        /// <summary>With leases: the block of allowance this node holds per weight, and the turn to reserve one.</summary>
        public readonly Block?[] Blocks = new Block?[3];
        public readonly SemaphoreSlim Reserving = new(1, 1);

        /// <summary>Adds to a slot's window; a newer window replaces an older one, whose calls are over and need no saving.</summary>
        public void Add(int slot, long start, long count)
        {
            ref var w = ref Unsaved[slot];
            if (start < w.Start) return;
            if (start > w.Start) (w.Start, w.Count) = (start, 0);
            w.Count += count;
            Dirty = true;
        }
    }

    private OrgMeter MeterOf(long orgId) => _meters.GetOrAdd(orgId, _newMeter);

    public ValueTask<MeterDecision> CountCallAsync(long orgId, MethodWeight weight, OrgLimits limits, long now, long uncheckedVersion) =>
        lease is not null && uncheckedVersion < 0 && lease.Live
            ? CountFromBlockAsync(orgId, weight, limits, now, lease)
            : uncheckedVersion >= 0
            ? CountIfCurrentAsync(orgId, weight, limits, now, uncheckedVersion)
            : DecideAsync(orgId, (weight, limits, now),
                static (c, m, s) => c.CountInRedisAsync(m, s.weight, s.limits, s.now, default, -1),
                static (d, orgId, s) => d.CountCallAsync(orgId, s.weight, s.limits, s.now, -1));

    private static readonly MeterDecision Stale = new(MeterOutcome.Stale);

    /// <summary>With leases: from this node's block of allowance when it can, else counted one by one in Redis.</summary>
    private async ValueTask<MeterDecision> CountFromBlockAsync(long orgId, MethodWeight weight, OrgLimits limits, long now, NodeLease leases)
    {
        if (UseRedis())
        {
            try
            {
                if (await SpendAsync(MeterOf(orgId), weight, limits, now, leases) is { } spent) return spent;
            }
            catch (Exception e) when (RedisLink.IsFailure(e)) { FallBack(e); }
        }
        return await DecideAsync(orgId, (weight, limits, now),
            static (c, m, s) => c.CountInRedisAsync(m, s.weight, s.limits, s.now, default, -1),
            static (d, orgId, s) => d.CountCallAsync(orgId, s.weight, s.limits, s.now, -1));
    }

    /// <summary>
    /// Counts only if <paramref name="version"/> is still the org's newest, both asked in one Redis round trip: the
    /// version read that a cluster call needs rides with its count. Whenever the answer is not a plain yes (the org
    /// moved on, Redis has no version for it yet, versions come from the database now, Redis failed), nothing is
    /// counted and the caller decides again on a checked snapshot.
    /// </summary>
    private async ValueTask<MeterDecision> CountIfCurrentAsync(long orgId, MethodWeight weight, OrgLimits limits, long now, long version)
    {
        if (!UseRedis() || !versions.TryVersionKey(orgId, out var versionKey)) return Stale;
        try { return await CountInRedisAsync(MeterOf(orgId), weight, limits, now, versionKey, version); }
        catch (Exception e) when (RedisLink.IsFailure(e))
        {
            FallBack(e);
            return Stale;
        }
    }

    public ValueTask<MeterDecision> TakeSandboxAsync(long orgId, OrgLimits limits, long now) =>
        DecideAsync(orgId, (limits, now),
            static (c, m, s) => c.TakeSandboxInRedisAsync(m, s.limits, s.now),
            static (d, orgId, s) => d.TakeSandboxAsync(orgId, s.limits, s.now));

    public async ValueTask ReturnSandboxAsync(long orgId, long now) =>
        await DecideAsync(orgId, now,
            static (c, m, now) => c.ReturnSandboxInRedisAsync(m, now),
            static async (d, orgId, now) => { await d.ReturnSandboxAsync(orgId, now); return true; });

    public void Forget(long orgId)
    {
        _meters.TryRemove(orgId, out _);
        history.Forget(orgId);
    }

    public ValueTask<UsageView> ReadAsync(long orgId, OrgLimits limits, long now) =>
        DecideAsync(orgId, (limits, now),
            static async (c, m, s) => (await c.ReadMeterAsync(m)).View(s.limits, s.now),
            static (d, orgId, s) => d.ReadAsync(orgId, s.limits, s.now));

    /// <summary>
    /// A reset is rare (the provider enables a threshold-disabled key), so it takes the database's way, which
    /// leaves a reset row in the enable's transaction; once that committed, the row is merged into Redis at once
    /// when Redis is there (else by the next merge round of any node).
    /// </summary>
    public async Task<Func<ValueTask>> ResetThresholdAsync(AppDbContext db, long orgId, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            // Calls counted before the reset belong to the window the reset ends.
            m.Unsaved[Meter.ThresholdSlot].Count = 0;
            m.WarnedUnsaved = -1;
        }
        await database.ResetThresholdAsync(db, orgId, now);
        return async () =>
        {
            if (!UseRedis()) return;
            try { await MergeAsync(orgId); }
            catch (Exception e) when (RedisLink.IsFailure(e)) { FallBack(e); }
        };
    }

    /// <summary>In Redis when it is there, else in the database, after saving what this node counted in Redis.</summary>
    private async ValueTask<T> DecideAsync<TState, T>(long orgId, TState state,
        Func<RedisUsageCounter, OrgMeter, TState, Task<T>> inRedis, Func<DatabaseUsageCounter, long, TState, ValueTask<T>> inDatabase)
    {
        var m = MeterOf(orgId);
        if (UseRedis())
        {
            try { return await inRedis(this, m, state); }
            catch (Exception e) when (RedisLink.IsFailure(e)) { FallBack(e); }
        }
        if (Volatile.Read(ref m.Dirty)) await FlushAsync();
        Interlocked.Increment(ref _databaseDecisions);
        return await inDatabase(database, orgId, state);
    }

    /// <summary>Counts in Redis; with a <paramref name="versionKey"/>, only while the org's newest version there is <paramref name="version"/>.</summary>
    private async Task<MeterDecision> CountInRedisAsync(OrgMeter m, MethodWeight weight, OrgLimits limits, long now, RedisKey versionKey, long version)
    {
        var rate = Meter.RateOf(weight, limits);
        var fastStart = Meter.Window.StartOf(now, rate.FastLength);
        var slowStart = Meter.Window.StartOf(now, Meter.Hour);
        var thresholdLength = limits.ThresholdWindowSeconds * Meter.Second;
        var thresholdStart = Meter.Window.StartOf(now, thresholdLength);
        if (lease is not null) return await CountBesideBlocksAsync(m, rate, fastStart, slowStart, thresholdStart, weight, limits, now, versionKey, version);
        var args = ArrayPool<RedisValue>.Shared.Rent(11);
        var keys = version < 0 ? null : ArrayPool<RedisKey>.Shared.Rent(2);
        long r;
        try
        {
            args[0] = SlotFields[rate.FastSlot];
            args[1] = SlotFields[rate.SlowSlot];
            args[2] = fastStart;
            args[3] = slowStart;
            args[4] = thresholdStart;
            args[5] = rate.FastLimit;
            args[6] = rate.SlowLimit;
            args[7] = limits.CallThreshold;
            args[8] = Meter.WarnAt(limits);
            args[9] = Math.Max(Meter.Day, thresholdLength) + Meter.Hour;
            if (keys is null) r = await EvalAsync(m, CountScript, args, 10);
            else
            {
                (keys[0], keys[1], args[10]) = (m.Keys[0], versionKey, version);
                r = await EvalAsync(m, CountScript, args, 11, keys.AsMemory(0, 2));
            }
        }
        finally
        {
            ArrayPool<RedisValue>.Shared.Return(args, clearArray: true);
            if (keys is not null) ArrayPool<RedisKey>.Shared.Return(keys, clearArray: true);
        }
        return Counted(m, r, rate, fastStart, slowStart, thresholdStart, weight, limits, now);
    }

    /// <summary>With leases, one call counted in Redis; while blocks elsewhere hold what it needs, it asks for them and waits.</summary>
    private async Task<MeterDecision> CountBesideBlocksAsync(OrgMeter m, Meter.Rate rate, long fastStart, long slowStart, long thresholdStart,
        MethodWeight weight, OrgLimits limits, long now, RedisKey versionKey, long version)
    {
        var thresholdLength = limits.ThresholdWindowSeconds * Meter.Second;
        RedisKey[] keys = [.. BlockKeys(m, lease!.Epoch), .. version < 0 ? Array.Empty<RedisKey>() : [versionKey]];
        RedisValue[] args = [SlotFields[rate.FastSlot], SlotFields[rate.SlowSlot], fastStart, slowStart, thresholdStart, rate.FastLimit,
            rate.SlowLimit, limits.CallThreshold, Meter.WarnAt(limits), Math.Max(Meter.Day, thresholdLength) + Meter.Hour, version,
            ReclaimChannel.ToString(), m.OrgId];
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pause = 1;
        while (true)
        {
            var r = await EvalAsync(m, CountBesideBlocksScript, args, args.Length, keys);
            // A holder gives back within a few milliseconds; a dead one's block is settled once its lease ends.
            if (r != -5 || System.Diagnostics.Stopwatch.GetElapsedTime(started) > NodeLease.Lease * 3)
                return Counted(m, r == -5 ? -2 : r, rate, fastStart, slowStart, thresholdStart, weight, limits, now);
            await Task.Delay(pause);
            pause = Math.Min(pause * 2, 20);
        }
    }

    private static MeterDecision Counted(OrgMeter m, long r, Meter.Rate rate, long fastStart, long slowStart, long thresholdStart,
        MethodWeight weight, OrgLimits limits, long now)
    {
        if (r == -4) return Stale;
        if (r == -2) return rate.FastLimited(now);
        if (r == -3) return rate.SlowLimited(now);
        var (calls, warn) = (r >> 1, (r & 1) == 1);
        lock (m)
        {
            m.Add(rate.FastSlot, fastStart, 1);
            m.Add(rate.SlowSlot, slowStart, 1);
            m.Add(Meter.ThresholdSlot, thresholdStart, 1);
            if (warn) m.WarnedUnsaved = thresholdStart;
        }
        m.History.Add(now, weight);
        // The script answers one integer, the threshold count; the rate window's count for X-RateLimit-* is not
        // carried back yet, so a cluster node's accepted calls report none (refusals do).
        return Meter.Counted(calls, warn, limits, default);
    }

    private async Task<MeterDecision> TakeSandboxInRedisAsync(OrgMeter m, OrgLimits limits, long now)
    {
        var (second, hour, day) = (Meter.Window.StartOf(now, Meter.Second), Meter.Window.StartOf(now, Meter.Hour), Meter.Window.StartOf(now, Meter.Day));
        var r = await EvalAsync(m, TakeSandboxScript, [second, hour, day, Meter.SandboxPerHour, limits.SandboxDailyQuota, DefaultTtl], 6);
        if (r < 0) return Meter.SandboxLimited((int)(-r - 2), limits, now);
        lock (m)
        {
            m.Add(Meter.SandboxSecondSlot, second, 1);
            m.Add(Meter.SandboxHourSlot, hour, 1);
            m.Add(Meter.SandboxDaySlot, day, 1);
        }
        return new MeterDecision(MeterOutcome.Allowed, Calls: r);
    }

    private async Task<bool> ReturnSandboxInRedisAsync(OrgMeter m, long now)
    {
        var day = Meter.Window.StartOf(now, Meter.Day);
        if (await EvalAsync(m, ReturnSandboxScript, [day], 1) != 1) return false;
        lock (m) m.Add(Meter.SandboxDaySlot, day, -1);
        return true;
    }

    private async Task<Meter> ReadMeterAsync(OrgMeter m)
    {
        var v = await link.Db.HashGetAsync(m.Keys[0], ReadFields);
        if (v[0].IsNull)
        {
            await SeedAsync(m);
            v = await link.Db.HashGetAsync(m.Keys[0], ReadFields);
        }
        var meter = new Meter();
        for (var i = 0; i < Meter.Slots; i++)
            meter.Windows[i] = new Meter.Window { Count = Math.Max(0, (long?)v[1 + 2 * i] ?? 0), Start = (long?)v[2 + 2 * i] ?? 0 };
        meter.WarnedWindowStart = (long?)v[^1] ?? -1;
        return meter;
    }

    /// <summary>Runs a script on the org's hash; a hash Redis does not have is seeded from the database and the script run again.</summary>
    private async Task<long> EvalAsync(OrgMeter m, string script, RedisValue[] args, int count, ReadOnlyMemory<RedisKey> keys = default)
    {
        if (keys.IsEmpty) keys = m.Keys;
        var r = await ScalarAsync(script, keys, args.AsMemory(0, count));
        if (r != Unseeded) return r;
        await SeedAsync(m);
        r = await ScalarAsync(script, keys, args.AsMemory(0, count));
        // Seeded a moment ago and gone already: Redis is not keeping what it is given.
        return r != Unseeded ? r : throw new RedisException($"The meter of org {m.OrgId} is not kept in Redis.");
    }

    private async Task<long> ScalarAsync(string script, ReadOnlyMemory<RedisKey> keys, ReadOnlyMemory<RedisValue> args)
    {
        using var result = await link.Db.ScriptEvaluateRespAsync(script, keys, args);
        Answered();
        return ReadInteger(result);
    }

    private static long ReadInteger(RespResult result)
    {
        var reader = result.ReadScalar();
        return reader.ReadInt64();
    }

    /// <summary>Fills the org's hash from its saved rows, under the org's database lock.</summary>
    private async Task SeedAsync(OrgMeter m)
    {
        // What this node counted in the Redis that lost the hash belongs in the seed.
        if (Volatile.Read(ref m.Dirty)) await FlushAsync();
        await database.HandOverAsync(m.OrgId, unmergedOnly: false, async rows =>
        {
            var args = new List<RedisValue> { DefaultTtl };
            foreach (var row in rows)
            {
                if (row.Name == DatabaseUsageCounter.ResetName || (row.Name == Meter.WarnedName && row.Count <= 0)) continue;
                args.AddRange([row.Name, row.WindowStartMs, Math.Max(0, row.Count)]);
            }
            // Seeded: the counts made in the database are now in Redis too.
            return await ScalarAsync(SeedScript, m.Keys, args.ToArray()) == 1;
        });
    }

    /// <summary>Adds an org's counts made in the database to its Redis windows, and marks them merged.</summary>
    private Task MergeAsync(long orgId) =>
        database.HandOverAsync(orgId, unmergedOnly: true, async rows =>
        {
            var args = new List<RedisValue> { DefaultTtl };
            foreach (var row in rows.OrderBy(r => r.Name == DatabaseUsageCounter.ResetName ? 0 : 1))
                args.AddRange([row.Name, row.WindowStartMs, row.Unmerged]);
            // An unseeded hash needs nothing: its seed reads the full counts.
            await ScalarAsync(MergeScript, MeterOf(orgId).Keys, args.ToArray());
            return true;
        });

    private async Task MergeAllAsync()
    {
        foreach (var orgId in await database.OrgsToMergeAsync()) await MergeAsync(orgId);
    }

    private bool UseRedis()
    {
        if (Volatile.Read(ref _fallback) == 1) return false;
        if (link.IsUp) return true;
        FallBack(null);
        return false;
    }

    private void FallBack(Exception? e)
    {
        if (OnlySlow(e)) return;
        if (Interlocked.Exchange(ref _fallback, 1) == 1) return;
        metrics.MeterRedisFallbacks.Add(1);
        log.LogWarning(e, "Redis is unreachable; counting in the database until it is back");
        // The counts this node made in Redis go to the database before other nodes decide without them.
        _ = history.TryAsync(FlushAsync);
    }

    /// <summary>Timestamp of the first of the timeouts since Redis last answered (0: it answered).</summary>
    private long _timeoutsSince;
    /// <summary>How long Redis may keep timing out, connected, before the node counts in the database.</summary>
    private static readonly TimeSpan TimeoutsFor = TimeSpan.FromSeconds(1);

    private void Answered()
    {
        if (Volatile.Read(ref _timeoutsSince) != 0) Volatile.Write(ref _timeoutsSince, 0);
    }

    /// <summary>
    /// A reply later than Keygate:Redis:TimeoutMilliseconds from a Redis still connected is, alone, a busy machine (a
    /// cold node taking a burst of calls, its thread pool behind), not a Redis that is gone. Moving the node to the
    /// database for it cost seconds per call (every call one transaction on the org's meter row: the bench's
    /// "stall", issue 17). The call that timed out is decided in the database; the node follows only when the
    /// timeouts go on for <see cref="TimeoutsFor"/> with no answer between them, or the connection is lost.
    /// </summary>
    private bool OnlySlow(Exception? e)
    {
        if (e is not RedisTimeoutException || !link.IsUp) return false;
        var now = Stopwatch.GetTimestamp();
        var since = Volatile.Read(ref _timeoutsSince);
        if (since == 0 || Stopwatch.GetElapsedTime(since, now) > TimeoutsFor * 10)
        {
            Volatile.Write(ref _timeoutsSince, now);
            return true;
        }
        return Stopwatch.GetElapsedTime(since, now) < TimeoutsFor;
    }

    /// <summary>Back to Redis once it answers, after merging the counts made in the database meanwhile.</summary>
    private async Task RecoverAsync()
    {
        if (Volatile.Read(ref _fallback) == 0 || !link.IsUp) return;
        await _recovering.WaitAsync();
        try
        {
            if (Volatile.Read(ref _fallback) == 0) return;
            await link.Db.PingAsync();
            await SettleUnsettledAsync();
            await MergeAllAsync();
            Volatile.Write(ref _fallback, 0);
            // Calls that were deciding in the database during the merge left counts of their own.
            await MergeAllAsync();
            log.LogInformation("Redis is back; the counts made in the database meanwhile are merged into it");
        }
        catch (Exception e)
        {
            // Best effort in the background: the next round (2 s) tries again.
            log.LogWarning(e, "Returning to Redis failed; the next round tries again");
        }
        finally { _recovering.Release(); }
    }

    public override Task StartAsync(CancellationToken ct)
    {
        link.Lost += OnLost;
        link.Restored += OnRestored;
        return base.StartAsync(ct);
    }

    private void OnLost() => FallBack(null);
    private void OnRestored() => _ = RecoverAsync();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(SettleLoopAsync(stoppingToken), history.RepeatAsync(async () =>
    {
        await FlushAsync();
        if (Volatile.Read(ref _fallback) == 1) await RecoverAsync();
        else if (link.IsUp)
        {
            // What nodes still on the database counted meanwhile.
            try { await MergeAllAsync(); }
            catch (Exception e) when (RedisLink.IsFailure(e)) { FallBack(e); }
        }
    }, stoppingToken));

    public override async Task StopAsync(CancellationToken ct)
    {
        link.Lost -= OnLost;
        link.Restored -= OnRestored;
        await base.StopAsync(ct);
        await SettleAllAsync(); // what this node reserved and did not spend goes back
        await history.TryAsync(FlushAsync); // a graceful stop loses nothing
    }

    /// <summary>Saves what this node counted in Redis, with the usage history.</summary>
    public Task FlushAsync() => history.FlushAsync(TakeUnsaved);

    private UsageHistory.Journal? TakeUnsaved()
    {
        var deltas = new List<DatabaseUsageCounter.Delta>();
        foreach (var m in _meters.Values)
        {
            lock (m)
            {
                if (!m.Dirty) continue;
                m.Dirty = false;
                for (var i = 0; i < Meter.Slots; i++)
                {
                    if (m.Unsaved[i].Count != 0) deltas.Add(new(m.OrgId, Meter.Names[i], m.Unsaved[i].Start, m.Unsaved[i].Count));
                    m.Unsaved[i].Count = 0;
                }
                if (m.WarnedUnsaved >= 0) deltas.Add(new(m.OrgId, Meter.WarnedName, m.WarnedUnsaved, 1));
                m.WarnedUnsaved = -1;
            }
        }
        if (deltas.Count == 0) return null;
        return new UsageHistory.Journal(db => DatabaseUsageCounter.AddAsync(db, deltas, unmerged: false), () =>
        {
            foreach (var d in deltas)
            {
                var m = MeterOf(d.OrgId);
                lock (m)
                {
                    if (d.Name == Meter.WarnedName) m.WarnedUnsaved = Math.Max(m.WarnedUnsaved, d.Start);
                    else m.Add(Array.IndexOf(Meter.Names, d.Name), d.Start, d.Count);
                    m.Dirty = true;
                }
            }
        });
    }
}
