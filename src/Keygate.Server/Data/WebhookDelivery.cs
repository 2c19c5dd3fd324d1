namespace Keygate.Data;

public enum WebhookTarget { Organization, ServiceProvider, Operator }

/// <summary>One event on its way to one URL; retried with backoff until delivered or given up.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public long WebhookEventId { get; set; }
    public WebhookTarget Target { get; set; }
    /// <summary>The endpoint whose secret signs the delivery; null for the operator's configured receivers.</summary>
    public long? EndpointId { get; set; }
    public required string Url { get; set; }
    public int Attempts { get; set; }
    public long NextAttemptAtMs { get; set; }
    public long? DeliveredAtMs { get; set; }
    public bool GaveUp { get; set; }
    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public int? LastStatus { get; set; }
    /// <summary>Why the last attempt failed, in a few words ("refused: not a public address"); never a secret or URL.</summary>
    public string? LastError { get; set; }
}
