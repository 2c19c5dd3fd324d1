using System.Text.Json;

namespace Keygate;

/// <summary>
/// An event waiting in the outbox (contract B, webhooks). It is written in the same transaction as the change
/// it reports, so a crash or restart loses none; the dispatcher fans it out to the subscribed URLs later.
/// </summary>
public sealed class WebhookEvent
{
    public long Id { get; set; }
    /// <summary>The event id receivers dedupe on.</summary>
    public required string EventId { get; set; }
    public required string Type { get; set; }
    public long OrganizationId { get; set; }
    public long? ServiceProviderId { get; set; }
    public long OccurredAtMs { get; set; }
    /// <summary>The exact JSON body that is signed and sent.</summary>
    public required string Body { get; set; }
    /// <summary>Set once the event has been turned into one delivery per subscribed URL.</summary>
    public bool FannedOut { get; set; }
}

public static class WebhookOutbox
{
    public const string UsageWarning = "usage.warning";
    public const string KeyDisabled = "key.disabled";
    public const string KeyEnabled = "key.enabled";
    public const string SubscriptionExpired = "subscription.expired";

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
