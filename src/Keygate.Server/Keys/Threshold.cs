using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Webhooks;

namespace Keygate.Keys;

/// <summary>
/// What happens when an org's calls reach the warning share of its threshold, or pass it. Both are rare (once per
/// window per org), so each runs in a scope of its own: its save is its own transaction, and the hot path that
/// calls it holds no scoped service.
/// </summary>
public sealed class Threshold(IServiceScopeFactory scopes, KeygateMetrics metrics)
{
    /// <summary>
    /// Call N+1 of the window: refused, and the org's Cloud Service key is disabled by Keygate itself
    /// (audited, and reported to the provider by webhook) before the answer goes out.
    /// </summary>
    public async ValueTask<KeygateError> ExceededAsync(OrgSnapshot org, KeySnapshot key, MeterDecision d)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<KeyLifecycle>().DisableAsync(Actor.System, org.OrgId, key.Id,
            DisabledReason.THRESHOLD_EXCEEDED,
            $"{d.Calls - 1} calls in the {org.Limits.ThresholdWindowSeconds} s window reached the threshold of {org.Limits.CallThreshold}");
        metrics.ThresholdDisables.Add(1);
        return KeygateError.KeyDisabled;
    }

    /// <summary>The early warning, once per window: an audit event and a usage.warning webhook.</summary>
    public async ValueTask WarnAsync(OrgSnapshot org, MeterDecision d, long nowMs)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var l = org.Limits;
        db.AuditEvents.Add(AuditLog.Event(Actor.System, org.OrgId, "usage.warning", org.Cloud?.Id, AuditLog.Success, nowMs,
            $"{d.Calls} of {l.CallThreshold} calls ({l.WarnAtPercent}% warning)"));
        WebhookOutbox.Add(db, WebhookOutbox.UsageWarning, org.OrgId, org.ServiceProviderId, new
        {
            calls = d.Calls, threshold = l.CallThreshold, warnAtPercent = l.WarnAtPercent, windowSeconds = l.ThresholdWindowSeconds,
        }, nowMs);
        await db.SaveChangesAsync();
        metrics.Warnings.Add(1);
    }
}
