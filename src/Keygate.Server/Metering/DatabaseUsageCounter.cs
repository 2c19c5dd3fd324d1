using Keygate.Data;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Metering;

/// <summary>
/// Exact counters in PostgreSQL: the slower path a cluster node takes while Redis is unreachable
/// (<see cref="RedisUsageCounter"/> falls back to it on its own).
/// <para>
/// Why: when Redis goes away, the threshold and the rate limits must still hold exactly across nodes, and the
/// database is what all nodes still share. It already holds every count made in Redis, up to the last
/// 2-second save of each node (the nodes save theirs as soon as they see Redis fail), in
/// <see cref="AppDbContext.MeterWindows"/>, so the windows go on from where Redis left them.
/// </para>
/// <para>
/// How: each decision is one transaction that takes the org's transaction-scoped advisory lock, reads the
/// org's rows, applies the same rules as the memory counter (<see cref="Meter"/>) and adds what moved. What
/// it counts it also marks as <see cref="MeterWindow.Unmerged"/>, which the Redis counter adds to Redis when
/// Redis is back (<see cref="HandOverAsync"/>). An advisory lock rather than row locks, because an org's
/// rows may not exist yet, and a lock on nothing does not serialise two first calls.
/// </para>
/// <para>
/// Cost: four round trips to PostgreSQL per call (lock, read, write, commit) instead of one to Redis, and
/// the calls of one org wait for each other on the lock: a few hundred calls per second per org at most,
/// and each waiting call holds a pooled connection.
/// </para>
/// </summary>
public sealed class DatabaseUsageCounter(IServiceScopeFactory scopes, UsageHistory history) : IUsageCounter
{
    /// <summary>The first key of the org locks, so they never meet another feature's advisory locks.</summary>
    private const int LockSpace = 0x4b474d57; // "KGMW"
    /// <summary>A row that tells the merge into Redis to reset the threshold window first.</summary>
    public const string ResetName = "r";

    /// <summary>One window's change, added to the row of its slot.</summary>
    public readonly record struct Delta(long OrgId, string Name, long Start, long Count);

    /// <summary>The cluster's fallback: <see cref="RedisUsageCounter"/> calls it only for versions already checked.</summary>
    public async ValueTask<MeterDecision> CountCallAsync(long orgId, MethodWeight weight, OrgLimits limits, long now, long uncheckedVersion)
    {
        var d = await ChangeAsync(orgId, m => m.CountCall(weight, limits, now));
        if (d.Outcome != MeterOutcome.RateLimited) history.For(orgId).Add(now, weight);
        return d;
    }

    public ValueTask<MeterDecision> TakeSandboxAsync(long orgId, OrgLimits limits, long now) =>
        ChangeAsync(orgId, m => m.TakeSandbox(limits, now));

    public async ValueTask ReturnSandboxAsync(long orgId, long now) =>
        await ChangeAsync(orgId, m => { m.ReturnSandbox(now); return default; });

    /// <summary>
    /// Zeroes the threshold window and leaves a reset row, in the caller's transaction and under the org's lock until
    /// it ends: Redis gets the reset with the next merge, by this node at once or by any node's round.
    /// </summary>
    public async Task<Func<ValueTask>> ResetThresholdAsync(AppDbContext db, long orgId, long now)
    {
        await LockAsync(db, orgId);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE "MeterWindows" SET "Count" = 0, "Unmerged" = 0 WHERE "OrganizationId" = {orgId} AND "Name" = {Meter.Names[Meter.ThresholdSlot]};
            DELETE FROM "MeterWindows" WHERE "OrganizationId" = {orgId} AND "Name" = {Meter.WarnedName};
            INSERT INTO "MeterWindows" ("OrganizationId", "Name", "WindowStartMs", "Count", "Unmerged") VALUES ({orgId}, {ResetName}, {now}, 1, 1)
            ON CONFLICT ("OrganizationId", "Name") DO UPDATE SET "Count" = 1, "Unmerged" = 1;
            """);
        return () => ValueTask.CompletedTask;
    }

    public void Forget(long orgId) => history.Forget(orgId);

    public async ValueTask<UsageView> ReadAsync(long orgId, OrgLimits limits, long now)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return MeterOf(await RowsAsync(db, orgId)).View(limits, now);
    }

    /// <summary>Runs one rule on the org's windows under its lock and adds what moved, marked as not yet in Redis.</summary>
    private async ValueTask<MeterDecision> ChangeAsync(long orgId, Func<Meter, MeterDecision> rule)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await LockAsync(db, orgId);
        var meter = MeterOf(await RowsAsync(db, orgId));
        var before = (Meter.Window[])meter.Windows.Clone();
        var warnedBefore = meter.WarnedWindowStart;
        var decision = rule(meter);
        var deltas = new List<Delta>();
        for (var i = 0; i < Meter.Slots; i++)
        {
            var (b, a) = (before[i], meter.Windows[i]);
            var moved = a.Start == b.Start ? a.Count - b.Count : a.Count;
            if (moved != 0) deltas.Add(new Delta(orgId, Meter.Names[i], a.Start, moved));
        }
        if (meter.WarnedWindowStart != warnedBefore) deltas.Add(new Delta(orgId, Meter.WarnedName, meter.WarnedWindowStart, 1));
        if (deltas.Count > 0) await AddAsync(db, deltas, unmerged: true);
        await tx.CommitAsync();
        return decision;
    }

    /// <summary>
    /// Adds changes to their rows: to the count of the same window, or as the first count of a newer one (an
    /// older window's change is dropped, it is over). Used in the caller's transaction, by the fallback
    /// (<paramref name="unmerged"/>: the change is not in Redis) and by the Redis counter saving what it counted.
    /// </summary>
    /// <remarks>Counts are added without a floor, so changes from several nodes add up the same in any order; readers clamp at 0.</remarks>
    public static async Task AddAsync(AppDbContext db, IReadOnlyCollection<Delta> deltas, bool unmerged)
    {
        var orgs = deltas.Select(d => d.OrgId).ToArray();
        var names = deltas.Select(d => d.Name).ToArray();
        var starts = deltas.Select(d => d.Start).ToArray();
        var counts = deltas.Select(d => d.Count).ToArray();
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "MeterWindows" AS m ("OrganizationId", "Name", "WindowStartMs", "Count", "Unmerged")
            SELECT u.o, u.n, u.s, u.c, CASE WHEN {unmerged} THEN u.c ELSE 0 END
            FROM unnest({orgs}, {names}, {starts}, {counts}) AS u(o, n, s, c)
            ON CONFLICT ("OrganizationId", "Name") DO UPDATE SET
              "Count" = CASE WHEN m."WindowStartMs" = excluded."WindowStartMs" THEN m."Count" + excluded."Count"
                             WHEN m."WindowStartMs" < excluded."WindowStartMs" THEN excluded."Count" ELSE m."Count" END,
              "Unmerged" = CASE WHEN m."WindowStartMs" = excluded."WindowStartMs" THEN m."Unmerged" + excluded."Unmerged"
                                WHEN m."WindowStartMs" < excluded."WindowStartMs" THEN excluded."Unmerged" ELSE m."Unmerged" END,
              "WindowStartMs" = GREATEST(m."WindowStartMs", excluded."WindowStartMs")
            """);
    }

    /// <summary>
    /// Gives an org's counts to Redis under the org's lock: <paramref name="toRedis"/> gets the rows (all of
    /// them, or only those with counts Redis lacks) and, when it returns true, they are marked as merged in the
    /// same transaction. If it throws or returns false nothing changes, and the counts wait for the next try.
    /// </summary>
    public async Task HandOverAsync(long orgId, bool unmergedOnly, Func<List<MeterWindow>, Task<bool>> toRedis)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await LockAsync(db, orgId);
        var rows = await RowsAsync(db, orgId);
        if (unmergedOnly) rows.RemoveAll(r => r.Unmerged == 0);
        if (unmergedOnly && rows.Count == 0) return;
        if (!await toRedis(rows)) return;
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE "MeterWindows" SET "Unmerged" = 0 WHERE "OrganizationId" = {orgId} AND "Unmerged" <> 0;
            DELETE FROM "MeterWindows" WHERE "OrganizationId" = {orgId} AND "Name" = {ResetName};
            """);
        await tx.CommitAsync();
    }

    /// <summary>The orgs with counts made here that Redis does not have yet (a partial index keeps this cheap).</summary>
    public async Task<List<long>> OrgsToMergeAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.MeterWindows.Where(w => w.Unmerged != 0).Select(w => w.OrganizationId).Distinct().Take(1000).ToListAsync();
    }

    /// <summary>
    /// The org's lock until the transaction ends. The rows are read by a later statement, so they are read
    /// after the lock is held (each statement sees the database as of its own start).
    /// </summary>
    private static Task LockAsync(AppDbContext db, long orgId) =>
        db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock({LockSpace}, {(int)(orgId ^ (orgId >> 32))})");

    private static Task<List<MeterWindow>> RowsAsync(AppDbContext db, long orgId) =>
        db.MeterWindows.AsNoTracking().Where(w => w.OrganizationId == orgId).ToListAsync();

    /// <summary>The windows as the rows hold them; Redis is seeded from the same rows.</summary>
    public static Meter MeterOf(IEnumerable<MeterWindow> rows)
    {
        var meter = new Meter();
        foreach (var r in rows)
        {
            if (r.Name == Meter.WarnedName && r.Count > 0) meter.WarnedWindowStart = r.WindowStartMs;
            var slot = Array.IndexOf(Meter.Names, r.Name);
            if (slot >= 0) meter.Windows[slot] = new Meter.Window { Start = r.WindowStartMs, Count = Math.Max(0, r.Count) };
        }
        return meter;
    }
}
