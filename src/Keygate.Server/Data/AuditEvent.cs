namespace Keygate.Data;

public sealed class AuditEvent
{
    public long Id { get; set; }
    public long? OrganizationId { get; set; }
    public long? ServiceProviderId { get; set; }
    public long TimeMs { get; set; }
    /// <summary>Who acted, e.g. "admin:77 admin@acme.example", "operator", "serviceProvider:3 Resell Inc", "keygate".</summary>
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public long? KeyId { get; set; }
    /// <summary>"SUCCESS" or the error code that refused the action.</summary>
    public required string Outcome { get; set; }
    public string ClientAddress { get; set; } = "";
    /// <summary>Free text without secrets.</summary>
    public string Detail { get; set; } = "";
}
