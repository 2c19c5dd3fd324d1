using Keygate.Data;
using System.Text.Json;

namespace Keygate.Webhooks;

public static class WebhookOutbox
{
    public const string UsageWarning = "usage.warning";
    public const string KeyDisabled = "key.disabled";
    public const string KeyEnabled = "key.enabled";
    public const string SubscriptionExpired = "subscription.expired";
    public const string SubscriptionExpiring = "subscription.expiring";
    public const string OrgSuspended = "org.suspended";
    public const string OrgResumed = "org.resumed";
    public const string OrgDeleted = "org.deleted";

    /// <summary>Adds an event to the outbox; it is saved with the caller's SaveChanges.</summary>
    public static WebhookEvent Add(AppDbContext db, string type, long orgId, long? serviceProviderId, object data, long nowMs)
    {
        var id = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(new
        {
            id, type, orgId, occurredAt = nowMs / 1000, data,
        }, JsonSerializerOptions.Web);
        var e = new WebhookEvent
        {
            EventId = id, Type = type, OrganizationId = orgId, ServiceProviderId = serviceProviderId, OccurredAtMs = nowMs, Body = body,
        };
        db.Set<WebhookEvent>().Add(e);
        return e;
    }
}
