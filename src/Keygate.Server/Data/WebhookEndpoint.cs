namespace Keygate.Data;

/// <summary>
/// Where an organization's or a service provider's events go (contract B, webhooks): exactly one of
/// <see cref="OrganizationId"/> and <see cref="ServiceProviderId"/> is set. The operator's receivers are configuration.
/// </summary>
public sealed class WebhookEndpoint
{
    public long Id { get; set; }
    public long? OrganizationId { get; set; }
    public long? ServiceProviderId { get; set; }
    public List<string> Urls { get; set; } = [];
    /// <summary>The signing secret, encrypted by <see cref="KeyVault.EncryptWebhookSecret"/> under this endpoint's id.</summary>
    public byte[] Secret { get; set; } = [];
    public long UpdatedAtMs { get; set; }
}
