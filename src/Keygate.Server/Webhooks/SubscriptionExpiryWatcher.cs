using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Webhooks;

/// <summary>
/// Announces <c>subscription.expired</c> once per expiresAt, within seconds of the instant (contract B: 60 s), and
/// <c>subscription.expiring</c> 14 days and 1 day before it. Expiry itself needs no job, the hot path compares times;
/// only the notices do.
/// </summary>
public sealed class SubscriptionExpiryWatcher(IServiceScopeFactory scopes, TimeProvider clock, ILogger<SubscriptionExpiryWatcher> log) : BackgroundService
{
    // Real time between looks; whether a subscription has expired is decided by the injected clock.
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var more = false;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                more = await AnnounceAsync(db, stop) | await WarnAsync(db, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) { log.LogWarning(e, "Looking for expired subscriptions failed; it is tried again shortly"); }
            if (more) continue;
            try { await Task.Delay(Period, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<bool> AnnounceAsync(AppDbContext db, CancellationToken ct)
    {
        var nowMs = clock.Now();
        var now = nowMs / 1000;
        var expired = await db.Organizations.AsNoTracking()
            .Where(o => o.SubscriptionEnabled && o.SubscriptionExpiresAt <= now
                && (o.ExpiryNotifiedAt == null || o.ExpiryNotifiedAt != o.SubscriptionExpiresAt))
            .OrderBy(o => o.Id).Take(Batch)
            .Select(o => new { o.Id, o.ServiceProviderId, ExpiresAt = o.SubscriptionExpiresAt!.Value })
            .ToListAsync(ct);
        foreach (var o in expired)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // The conditional update is the claim: of two nodes only the one that changes the row announces.
            // It leaves StateVersion alone, as the org's state (and every snapshot of it) is unchanged.
            var claimed = await db.Organizations
                .Where(x => x.Id == o.Id && x.SubscriptionEnabled && x.SubscriptionExpiresAt == o.ExpiresAt
                    && (x.ExpiryNotifiedAt == null || x.ExpiryNotifiedAt != o.ExpiresAt))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiryNotifiedAt, o.ExpiresAt), ct);
            if (claimed == 0) continue;
            WebhookOutbox.Add(db, WebhookOutbox.SubscriptionExpired, o.Id, o.ServiceProviderId, new { expiresAt = o.ExpiresAt }, nowMs);
            db.AuditEvents.Add(AuditLog.Event(Actor.System, o.Id, "subscription.expired", null, AuditLog.Success, nowMs, $"expiresAt={o.ExpiresAt}"));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return expired.Count == Batch;
    }

    private const long Day = 86_400;

    /// <summary>
    /// subscription.expiring, once per expiresAt and notice: 14 days before, then 1 day before. A subscription set to
    /// end within a day gets only the 1-day notice; each notice is claimed by a conditional update like the expiry's.
    /// </summary>
    private async Task<bool> WarnAsync(AppDbContext db, CancellationToken ct)
    {
        var nowMs = clock.Now();
        var now = nowMs / 1000;
        var due = await db.Organizations.AsNoTracking()
            .Where(o => o.SubscriptionEnabled && o.SubscriptionExpiresAt > now && o.SubscriptionExpiresAt <= now + 14 * Day
                && ((o.SubscriptionExpiresAt > now + Day && (o.ExpiringNotified14At == null || o.ExpiringNotified14At != o.SubscriptionExpiresAt))
                    || (o.SubscriptionExpiresAt <= now + Day && (o.ExpiringNotified1At == null || o.ExpiringNotified1At != o.SubscriptionExpiresAt))))
            .OrderBy(o => o.Id).Take(Batch)
            .Select(o => new { o.Id, o.ServiceProviderId, ExpiresAt = o.SubscriptionExpiresAt!.Value })
            .ToListAsync(ct);
        foreach (var o in due)
        {
            var lastDay = o.ExpiresAt <= now + Day;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var claim = db.Organizations.Where(x => x.Id == o.Id && x.SubscriptionEnabled && x.SubscriptionExpiresAt == o.ExpiresAt);
            var claimed = lastDay
                ? await claim.Where(x => x.ExpiringNotified1At == null || x.ExpiringNotified1At != o.ExpiresAt)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiringNotified1At, o.ExpiresAt).SetProperty(x => x.ExpiringNotified14At, o.ExpiresAt), ct)
                : await claim.Where(x => x.ExpiringNotified14At == null || x.ExpiringNotified14At != o.ExpiresAt)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiringNotified14At, o.ExpiresAt), ct);
            if (claimed == 0) continue;
            var daysBefore = lastDay ? 1 : 14;
            WebhookOutbox.Add(db, WebhookOutbox.SubscriptionExpiring, o.Id, o.ServiceProviderId, new { expiresAt = o.ExpiresAt, daysBefore }, nowMs);
            db.AuditEvents.Add(AuditLog.Event(Actor.System, o.Id, "subscription.expiring", null, AuditLog.Success, nowMs, $"expiresAt={o.ExpiresAt} daysBefore={daysBefore}"));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return due.Count == Batch;
    }
}
