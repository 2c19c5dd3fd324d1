namespace Keygate.Data;

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
