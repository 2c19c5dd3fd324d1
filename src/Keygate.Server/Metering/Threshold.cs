namespace Keygate;

/// <summary>What happens when an org's calls reach the warning share of its threshold, or pass it.</summary>
public static class Threshold
{
    /// <summary>
    /// Call N+1 of the window: refused, and the org's Cloud Service key is disabled by Keygate itself
    /// (audited, and reported to the provider by webhook) before the answer goes out.
    /// </summary>
    public static async ValueTask<KeygateError> ExceededAsync(HttpContext http, OrgSnapshot org, KeySnapshot key, MeterDecision d, long nowMs)
    {
        var lifecycle = http.RequestServices.GetRequiredService<KeyLifecycle>();
        await lifecycle.DisableAsync(Actor.System, org.OrgId, key.Id, DisabledReason.THRESHOLD_EXCEEDED,
            $"{d.Calls - 1} calls in the {org.Limits.ThresholdWindowSeconds} s window reached the threshold of {org.Limits.CallThreshold}");
        return SessionGate.KeyDisabled;
    }

    /// <summary>The early warning, once per window: an audit event and a usage.warning webhook.</summary>
    public static async ValueTask<KeygateError?> WarnAsync(HttpContext http, OrgSnapshot org, MeterDecision d, long nowMs)
    {
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        var l = org.Limits;
        db.AuditEvents.Add(AuditLog.Event(Actor.System, org.OrgId, "usage.warning", org.Cloud?.Id, AuditLog.Success, nowMs,
            $"{d.Calls} of {l.CallThreshold} calls ({l.WarnAtPercent}% warning)"));
        WebhookOutbox.Add(db, WebhookOutbox.UsageWarning, org.OrgId, org.ServiceProviderId, new
        {
            calls = d.Calls, threshold = l.CallThreshold, warnAtPercent = l.WarnAtPercent, windowSeconds = l.ThresholdWindowSeconds,
        }, nowMs);
        await db.SaveChangesAsync();
        return null;
    }
}
