using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Webhooks;

/// <summary>
/// Announces <c>subscription.expired</c> once per expiresAt, within seconds of the instant (contract B: 60 s).
/// Expiry itself needs no job, the hot path compares times; only the notice does.
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
                more = await AnnounceAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), stop);
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
}
