using Keygate.Data;
using Microsoft.EntityFrameworkCore;
using System.Collections.Concurrent;

namespace Keygate.Metering;

/// <summary>
/// The single-node counters: one small lock per org, so every decision (check the windows, then count) is
/// atomic and exact. The durable part (threshold window, sandbox day, hourly usage) is written to the
/// database at least every 5 seconds and on shutdown, and read back at start, so a restart keeps the count.
/// </summary>
public sealed class MemoryUsageCounter(IServiceScopeFactory scopes, UsageHistory history) : BackgroundService, IUsageCounter
{
    private readonly ConcurrentDictionary<long, OrgMeter> _meters = new();

    private sealed class OrgMeter(UsageHistory.Hours history)
    {
        public readonly Meter Meter = new();
        public readonly UsageHistory.Hours History = history;
        public bool Dirty;
        /// <summary>The resets of the threshold window this meter has applied (<see cref="MeterState.ThresholdResets"/>).</summary>
        public long Resets;
    }

    private OrgMeter MeterOf(long orgId) => _meters.GetOrAdd(orgId, static (id, h) => new OrgMeter(h.For(id)), history);

    /// <summary>A single node's snapshots are always current, so there is no version to check.</summary>
    public ValueTask<MeterDecision> CountCallAsync(long orgId, MethodWeight weight, OrgLimits limits, long now, long uncheckedVersion)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            var d = m.Meter.CountCall(weight, limits, now);
            if (d.Outcome != MeterOutcome.RateLimited)
            {
                m.History.Add(now, weight);
                m.Dirty = true;
            }
            return ValueTask.FromResult(d);
        }
    }

    public ValueTask<MeterDecision> TakeSandboxAsync(long orgId, OrgLimits limits, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            var d = m.Meter.TakeSandbox(limits, now);
            if (d.Outcome == MeterOutcome.Allowed) m.Dirty = true;
            return ValueTask.FromResult(d);
        }
    }

    public ValueTask ReturnSandboxAsync(long orgId, long now)
    {
        var m = MeterOf(orgId);
        lock (m)
        {
            m.Meter.ReturnSandbox(now);
            m.Dirty = true;
        }
        return ValueTask.CompletedTask;
    }

    public async Task<Func<ValueTask>> ResetThresholdAsync(AppDbContext db, long orgId, long now)
    {
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "MeterStates" ("OrganizationId", "ThresholdWindowStartMs", "ThresholdCount", "WarnedWindowStartMs",
              "SandboxDayStartMs", "SandboxDayCount", "ThresholdResets")
            VALUES ({orgId}, 0, 0, -1, 0, 0, 1)
            ON CONFLICT ("OrganizationId") DO UPDATE SET
              "ThresholdCount" = 0, "WarnedWindowStartMs" = -1, "ThresholdResets" = "MeterStates"."ThresholdResets" + 1
            """);
        var resets = await db.MeterStates.Where(s => s.OrganizationId == orgId).Select(s => s.ThresholdResets).FirstAsync();
        return () =>
        {
            var m = MeterOf(orgId);
            lock (m)
            {
                m.Meter.ResetThreshold();
                m.Resets = resets;
                m.Dirty = true;
            }
            return ValueTask.CompletedTask;
        };
    }

    public void Forget(long orgId)
    {
        _meters.TryRemove(orgId, out _);
        history.Forget(orgId);
    }

    public ValueTask<UsageView> ReadAsync(long orgId, OrgLimits limits, long now)
    {
        var m = MeterOf(orgId);
        lock (m) return ValueTask.FromResult(m.Meter.View(limits, now));
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
            var om = MeterOf(s.OrganizationId);
            var m = om.Meter;
            m.Threshold = new Meter.Window { Start = s.ThresholdWindowStartMs, Count = s.ThresholdCount };
            m.WarnedWindowStart = s.WarnedWindowStartMs;
            m.SandboxDay = new Meter.Window { Start = s.SandboxDayStartMs, Count = s.SandboxDayCount };
            om.Resets = s.ThresholdResets;
        }
        // The hourly rate windows are exactly this hour's usage buckets.
        var hours = await db.UsageBuckets.AsNoTracking().GroupBy(b => b.OrganizationId)
            .Select(g => g.OrderByDescending(b => b.HourStartMs).First()).ToListAsync(ct);
        foreach (var b in hours)
        {
            var m = MeterOf(b.OrganizationId).Meter;
            m.Windows[1] = new Meter.Window { Start = b.HourStartMs, Count = b.Light };
            m.Windows[3] = new Meter.Window { Start = b.HourStartMs, Count = b.Medium };
            m.Windows[5] = new Meter.Window { Start = b.HourStartMs, Count = b.Heavy };
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => history.RepeatAsync(FlushAsync, stoppingToken);

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        await history.TryAsync(FlushAsync); // a graceful restart loses nothing
    }

    /// <summary>Writes every org whose counters moved since the last flush, with the usage history.</summary>
    public Task FlushAsync() => history.FlushAsync(TakeStates);

    private UsageHistory.Journal? TakeStates()
    {
        var states = new List<MeterState>();
        foreach (var (orgId, m) in _meters)
        {
            lock (m)
            {
                if (!m.Dirty) continue;
                m.Dirty = false;
                states.Add(new MeterState
                {
                    OrganizationId = orgId, ThresholdWindowStartMs = m.Meter.Threshold.Start, ThresholdCount = m.Meter.Threshold.Count,
                    WarnedWindowStartMs = m.Meter.WarnedWindowStart, SandboxDayStartMs = m.Meter.SandboxDay.Start, SandboxDayCount = m.Meter.SandboxDay.Count,
                    ThresholdResets = m.Resets,
                });
            }
        }
        if (states.Count == 0) return null;
        return new UsageHistory.Journal(db => WriteAsync(db, states), () =>
        {
            // The snapshot is absolute: marking the org dirty writes its newest state next time.
            foreach (var s in states)
            {
                var m = MeterOf(s.OrganizationId);
                lock (m) m.Dirty = true;
            }
        });
    }

    private static async Task WriteAsync(AppDbContext db, List<MeterState> states)
    {
        foreach (var chunk in states.Chunk(500))
        {
            var ids = chunk.Select(c => c.OrganizationId).ToList();
            var existing = await db.MeterStates.Where(s => ids.Contains(s.OrganizationId)).ToDictionaryAsync(s => s.OrganizationId);
            foreach (var state in chunk)
            {
                if (!existing.TryGetValue(state.OrganizationId, out var row)) db.MeterStates.Add(state);
                else if (row.ThresholdResets == state.ThresholdResets) db.Entry(row).CurrentValues.SetValues(state);
                else
                {
                    // A reset committed that this snapshot predates: its threshold count is the old window's.
                    row.SandboxDayStartMs = state.SandboxDayStartMs;
                    row.SandboxDayCount = state.SandboxDayCount;
                }
            }
            await db.SaveChangesAsync();
        }
    }
}
