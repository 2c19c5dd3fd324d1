using Keygate.Data;
using Microsoft.EntityFrameworkCore;
using System.Collections.Concurrent;

namespace Keygate.Metering;

/// <summary>
/// The usage history (calls per org per hour, by weight, in UsageBuckets) and the write that carries it to
/// the database every 2 seconds and at shutdown, shared by the usage counters. Each node keeps only the
/// calls it counted itself since its last write and adds them to the buckets, so the history is exact
/// however many nodes count, and a failed write keeps its calls for the next one.
/// </summary>
public sealed class UsageHistory(IServiceScopeFactory scopes, ILogger<UsageHistory> log)
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<long, Hours> _orgs = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>One org's calls not yet in the database; counters keep a reference so the hot path does no lookup.</summary>
    public Hours For(long orgId) => _orgs.GetOrAdd(orgId, static id => new Hours(id));

    public void Forget(long orgId) => _orgs.TryRemove(orgId, out _);

    public sealed class Hours(long orgId)
    {
        /// <summary>By hour start: [light, medium, heavy].</summary>
        private readonly Dictionary<long, long[]> _pending = [];

        public void Add(long now, MethodWeight weight)
        {
            var hour = Meter.Window.StartOf(now, Meter.Hour);
            lock (_pending)
            {
                if (!_pending.TryGetValue(hour, out var calls)) _pending[hour] = calls = new long[3];
                calls[(int)weight]++;
            }
        }

        public void TakeInto(List<UsageBucket> buckets)
        {
            lock (_pending)
            {
                var newest = long.MinValue;
                foreach (var (hour, c) in _pending)
                {
                    if (c[0] != 0 || c[1] != 0 || c[2] != 0)
                        buckets.Add(new UsageBucket { OrganizationId = orgId, HourStartMs = hour, Light = c[0], Medium = c[1], Heavy = c[2] });
                    newest = Math.Max(newest, hour);
                }
                // The newest hour's counts stay, zeroed: the calls after a flush count without allocating
                // (every API call passes here); older hours are done and go.
                foreach (var hour in _pending.Keys)
                    if (hour != newest) _pending.Remove(hour);
                if (_pending.TryGetValue(newest, out var kept)) Array.Clear(kept);
            }
        }

        /// <summary>Adds the calls not yet written, by hour start, into <paramref name="calls"/>.</summary>
        public void AddPendingTo(Dictionary<long, long> calls)
        {
            lock (_pending)
                foreach (var (hour, c) in _pending)
                    calls[hour] = calls.GetValueOrDefault(hour) + c[0] + c[1] + c[2];
        }

        public void PutBack(UsageBucket b)
        {
            lock (_pending)
            {
                if (!_pending.TryGetValue(b.HourStartMs, out var c)) _pending[b.HourStartMs] = c = new long[3];
                c[0] += b.Light; c[1] += b.Medium; c[2] += b.Heavy;
            }
        }
    }

    /// <summary>
    /// An org's calls per hour (all weights) for the hours starting in [<paramref name="fromMs"/>, <paramref name="toMs"/>):
    /// what the database holds plus what this node counted and has not written yet, so a page shows its own
    /// node's calls at once (another node's arrive with its next write, within 2 seconds).
    /// </summary>
    public async Task<Dictionary<long, long>> HourlyAsync(long orgId, long fromMs, long toMs, CancellationToken ct)
    {
        // Not during a flush: its calls would be in neither place, or in both.
        await _flushing.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var calls = await db.UsageBuckets.AsNoTracking()
                .Where(b => b.OrganizationId == orgId && b.HourStartMs >= fromMs && b.HourStartMs < toMs)
                .ToDictionaryAsync(b => b.HourStartMs, b => b.Light + b.Medium + b.Heavy, ct);
            if (_orgs.TryGetValue(orgId, out var hours))
            {
                var pending = new Dictionary<long, long>();
                hours.AddPendingTo(pending);
                foreach (var (hour, n) in pending)
                    if (hour >= fromMs && hour < toMs) calls[hour] = calls.GetValueOrDefault(hour) + n;
            }
            return calls;
        }
        finally { _flushing.Release(); }
    }

    /// <summary>
    /// What a counter writes in the same transaction as the history (its own durable state), already taken
    /// from memory; <paramref name="PutBack"/> returns it there when the transaction fails.
    /// </summary>
    public sealed record Journal(Func<AppDbContext, Task> WriteAsync, Action PutBack);

    /// <summary>
    /// Writes the history and the counter's journal in one transaction. Flushes run one at a time, so a
    /// counter that writes absolute values never has an older snapshot overwrite a newer one.
    /// </summary>
    public async Task FlushAsync(Func<Journal?> takeJournal)
    {
        await _flushing.WaitAsync();
        try
        {
            var buckets = new List<UsageBucket>();
            foreach (var hours in _orgs.Values) hours.TakeInto(buckets);
            var journal = takeJournal();
            if (buckets.Count == 0 && journal is null) return;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                await using var tx = await db.Database.BeginTransactionAsync();
                if (journal is not null) await journal.WriteAsync(db);
                foreach (var b in buckets)
                    await db.Database.ExecuteSqlInterpolatedAsync($"""
                        INSERT INTO "UsageBuckets" ("OrganizationId", "HourStartMs", "Light", "Medium", "Heavy")
                        VALUES ({b.OrganizationId}, {b.HourStartMs}, {b.Light}, {b.Medium}, {b.Heavy})
                        ON CONFLICT ("OrganizationId", "HourStartMs") DO UPDATE SET
                          "Light" = "UsageBuckets"."Light" + excluded."Light",
                          "Medium" = "UsageBuckets"."Medium" + excluded."Medium",
                          "Heavy" = "UsageBuckets"."Heavy" + excluded."Heavy"
                        """);
                await tx.CommitAsync();
            }
            catch
            {
                foreach (var b in buckets) For(b.OrganizationId).PutBack(b);
                journal?.PutBack();
                throw;
            }
        }
        finally { _flushing.Release(); }
    }

    /// <summary>The background loop of a counter: <paramref name="flush"/> every 2 seconds until stopped.</summary>
    public async Task RepeatAsync(Func<Task> flush, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(FlushInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
            await TryAsync(flush);
        }
    }

    /// <summary>Runs a flush and logs its failure instead of throwing: the next one retries.</summary>
    public async Task TryAsync(Func<Task> flush)
    {
        try { await flush(); }
        catch (Exception e) { log.LogWarning(e, "Writing usage to the database failed; will retry"); }
    }
}
