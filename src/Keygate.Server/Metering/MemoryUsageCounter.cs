using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

namespace Keygate;

/// <summary>
/// The single-node counters: one small lock per org, so every decision (check the windows, then count) is
/// atomic and exact. The durable part (threshold window, sandbox day, hourly usage) is written to the
/// database at least every 5 seconds and on shutdown, and read back at start, so a restart keeps the count.
/// </summary>
public sealed class MemoryUsageCounter(IServiceScopeFactory scopes, ILogger<MemoryUsageCounter> log) : BackgroundService, IUsageCounter
{
    private const long Second = 1000, Minute = 60_000, Hour = 3_600_000, Day = 86_400_000;
    private readonly ConcurrentDictionary<long, OrgMeter> _meters = new();

    /// <summary>A fixed window aligned to the epoch.</summary>
    private struct Window
    {
        public long Start;
        public long Count;

        public void Roll(long now, long length)
        {
            var start = now - now % length;
            if (start != Start) (Start, Count) = (start, 0);
        }

        public readonly int RetryAfter(long now, long length) => (int)Math.Max(1, (Start + length - now + 999) / 1000);
    }

    private sealed class OrgMeter
    {
        /// <summary>Per weight w: [2w] the short window (second, or minute for heavy), [2w+1] the hour.</summary>
        public readonly Window[] Rates = new Window[6];
        public Window Threshold, SandboxSecond, SandboxHour, SandboxDay;
        public long WarnedWindowStart = -1;
        public bool Dirty;
        /// <summary>Calls not yet added to the usage history, by hour: [light, medium, heavy].</summary>
        public readonly Dictionary<long, long[]> Pending = [];
    }

    private OrgMeter MeterOf(long orgId) => _meters.GetOrAdd(orgId, _ => new OrgMeter());

    public ValueTask<MeterDecision> CountCallAsync(long orgId, MethodWeight weight, OrgLimits limits, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            ref var fast = ref m.Rates[2 * (int)weight];
            ref var slow = ref m.Rates[2 * (int)weight + 1];
            var (fastLength, fastLimit, slowLimit, unit) = weight switch
            {
                MethodWeight.Light => (Second, limits.LightPerSecond, limits.LightPerHour, "SECOND"),
                MethodWeight.Medium => (Second, limits.MediumPerSecond, limits.MediumPerHour, "SECOND"),
                _ => (Minute, limits.HeavyPerMinute, limits.HeavyPerHour, "MINUTE"),
            };
            fast.Roll(now, fastLength);
            slow.Roll(now, Hour);
            // Refused calls are not counted: checks first, then all counters move together.
            if (fast.Count >= fastLimit)
                return ValueTask.FromResult(new MeterDecision(MeterOutcome.RateLimited, fast.RetryAfter(now, fastLength), $"{fastLimit}/{unit}"));
            if (slow.Count >= slowLimit)
                return ValueTask.FromResult(new MeterDecision(MeterOutcome.RateLimited, slow.RetryAfter(now, Hour), $"{slowLimit}/HOUR"));
            fast.Count++;
            slow.Count++;

            m.Threshold.Roll(now, limits.ThresholdWindowSeconds * Second);
            var calls = ++m.Threshold.Count;
            var hour = now - now % Hour;
            if (!m.Pending.TryGetValue(hour, out var pending)) m.Pending[hour] = pending = new long[3];
            pending[(int)weight]++;
            m.Dirty = true;

            if (calls > limits.CallThreshold) return ValueTask.FromResult(new MeterDecision(MeterOutcome.ThresholdExceeded, Calls: calls));
            // In 128 bits: a threshold near long.MaxValue times a percentage must not overflow into an early warning.
            var warnAt = (long)(((Int128)limits.CallThreshold * limits.WarnAtPercent + 99) / 100);
            var warn = calls >= warnAt && m.WarnedWindowStart != m.Threshold.Start;
            if (warn) m.WarnedWindowStart = m.Threshold.Start;
            return ValueTask.FromResult(new MeterDecision(MeterOutcome.Allowed, WarningCrossed: warn, Calls: calls));
        }
    }

    public ValueTask<MeterDecision> TakeSandboxAsync(long orgId, OrgLimits limits, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            m.SandboxSecond.Roll(now, Second);
            m.SandboxHour.Roll(now, Hour);
            m.SandboxDay.Roll(now, Day);
            if (m.SandboxSecond.Count >= 1) return Limited(m.SandboxSecond.RetryAfter(now, Second), "1/SECOND");
            if (m.SandboxHour.Count >= 400) return Limited(m.SandboxHour.RetryAfter(now, Hour), "400/HOUR");
            if (m.SandboxDay.Count >= limits.SandboxDailyQuota) return Limited(m.SandboxDay.RetryAfter(now, Day), $"{limits.SandboxDailyQuota}/DAY");
            m.SandboxSecond.Count++;
            m.SandboxHour.Count++;
            m.SandboxDay.Count++;
            m.Dirty = true;
            return ValueTask.FromResult(new MeterDecision(MeterOutcome.Allowed, Calls: m.SandboxDay.Count));
        }

        static ValueTask<MeterDecision> Limited(int retry, string limit) => ValueTask.FromResult(new MeterDecision(MeterOutcome.RateLimited, retry, limit));
    }

    public ValueTask ReturnSandboxAsync(long orgId, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            if (m.SandboxDay.Start == now - now % Day && m.SandboxDay.Count > 0) m.SandboxDay.Count--;
            m.Dirty = true;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask ResetThresholdAsync(long orgId, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            m.Threshold.Count = 0;
            m.WarnedWindowStart = -1;
            m.Dirty = true;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<UsageView> ReadAsync(long orgId, OrgLimits limits, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            long Used(ref Window w, long length) { w.Roll(now, length); return w.Count; }
            var thresholdLength = limits.ThresholdWindowSeconds * Second;
            var calls = Used(ref m.Threshold, thresholdLength);
            return ValueTask.FromResult(new UsageView(m.Threshold.Start / 1000, limits.ThresholdWindowSeconds, calls, limits.CallThreshold,
                Math.Max(0, limits.CallThreshold - calls), limits.WarnAtPercent,
                new RatesUsage(
                    new RateUsage(limits.LightPerSecond, limits.LightPerHour, Used(ref m.Rates[0], Second), Used(ref m.Rates[1], Hour)),
                    new RateUsage(limits.MediumPerSecond, limits.MediumPerHour, Used(ref m.Rates[2], Second), Used(ref m.Rates[3], Hour)),
                    new HeavyRateUsage(limits.HeavyPerMinute, limits.HeavyPerHour, Used(ref m.Rates[4], Minute), Used(ref m.Rates[5], Hour))),
                new SandboxUsage(limits.SandboxDailyQuota, Used(ref m.SandboxDay, Day))));
        }
    }

    public override async Task StartAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        await base.StartAsync(ct);
    }

    /// <summary>Reads back the threshold windows, sandbox days and this hour's calls written before a restart.</summary>
    private async Task LoadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var s in await db.MeterStates.AsNoTracking().ToListAsync(ct))
        {
            var m = MeterOf(s.OrganizationId);
            m.Threshold = new Window { Start = s.ThresholdWindowStartMs, Count = s.ThresholdCount };
            m.WarnedWindowStart = s.WarnedWindowStartMs;
            m.SandboxDay = new Window { Start = s.SandboxDayStartMs, Count = s.SandboxDayCount };
        }
        // The hourly rate windows are exactly this hour's usage buckets.
        var hours = await db.UsageBuckets.AsNoTracking().GroupBy(b => b.OrganizationId)
            .Select(g => g.OrderByDescending(b => b.HourStartMs).First()).ToListAsync(ct);
        foreach (var b in hours)
        {
            var m = MeterOf(b.OrganizationId);
            m.Rates[1] = new Window { Start = b.HourStartMs, Count = b.Light };
            m.Rates[3] = new Window { Start = b.HourStartMs, Count = b.Medium };
            m.Rates[5] = new Window { Start = b.HourStartMs, Count = b.Heavy };
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken); }
            catch (OperationCanceledException) { break; }
            await TryFlushAsync();
        }
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        await TryFlushAsync(); // a graceful restart loses nothing
    }

    private async Task TryFlushAsync()
    {
        try { await FlushAsync(); }
        catch (Exception e) { log.LogWarning(e, "Writing usage to the database failed; will retry"); }
    }

    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Writes every org whose counters moved since the last flush.</summary>
    public async Task FlushAsync()
    {
        await _flushing.WaitAsync();
        try
        {
            var states = new List<(MeterState State, List<UsageBucket> Buckets)>();
            foreach (var (orgId, m) in _meters)
            {
                lock (m)
                {
                    if (!m.Dirty) continue;
                    m.Dirty = false;
                    var buckets = m.Pending.Select(p => new UsageBucket
                    {
                        OrganizationId = orgId, HourStartMs = p.Key, Light = p.Value[0], Medium = p.Value[1], Heavy = p.Value[2],
                    }).ToList();
                    m.Pending.Clear();
                    states.Add((new MeterState
                    {
                        OrganizationId = orgId, ThresholdWindowStartMs = m.Threshold.Start, ThresholdCount = m.Threshold.Count,
                        WarnedWindowStartMs = m.WarnedWindowStart, SandboxDayStartMs = m.SandboxDay.Start, SandboxDayCount = m.SandboxDay.Count,
                    }, buckets));
                }
            }
            if (states.Count == 0) return;
            try
            {
                await WriteAsync(states);
            }
            catch
            {
                // Put the unwritten deltas back so the next flush carries them.
                foreach (var (state, buckets) in states)
                {
                    var m = MeterOf(state.OrganizationId);
                    lock (m)
                    {
                        m.Dirty = true;
                        foreach (var b in buckets)
                        {
                            if (!m.Pending.TryGetValue(b.HourStartMs, out var p)) m.Pending[b.HourStartMs] = p = new long[3];
                            p[0] += b.Light; p[1] += b.Medium; p[2] += b.Heavy;
                        }
                    }
                }
                throw;
            }
        }
        finally { _flushing.Release(); }
    }

    private async Task WriteAsync(List<(MeterState State, List<UsageBucket> Buckets)> states)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var chunk in states.Chunk(500))
        {
            var ids = chunk.Select(c => c.State.OrganizationId).ToList();
            var existing = await db.MeterStates.Where(s => ids.Contains(s.OrganizationId)).ToDictionaryAsync(s => s.OrganizationId);
            foreach (var (state, buckets) in chunk)
            {
                if (existing.TryGetValue(state.OrganizationId, out var row)) db.Entry(row).CurrentValues.SetValues(state);
                else db.MeterStates.Add(state);
                foreach (var b in buckets)
                    await db.Database.ExecuteSqlInterpolatedAsync($"""
                        INSERT INTO "UsageBuckets" ("OrganizationId", "HourStartMs", "Light", "Medium", "Heavy")
                        VALUES ({b.OrganizationId}, {b.HourStartMs}, {b.Light}, {b.Medium}, {b.Heavy})
                        ON CONFLICT ("OrganizationId", "HourStartMs") DO UPDATE SET
                          "Light" = "UsageBuckets"."Light" + excluded."Light",
                          "Medium" = "UsageBuckets"."Medium" + excluded."Medium",
                          "Heavy" = "UsageBuckets"."Heavy" + excluded."Heavy"
                        """);
            }
            await db.SaveChangesAsync();
        }
        await tx.CommitAsync();
    }
}
