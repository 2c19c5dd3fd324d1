namespace Keygate.Data;

/// <summary>A legacy-API session (JSESSIONID). The id itself is never stored, only its SHA-256.</summary>
public sealed class LegacySession
{
    public required byte[] IdHash { get; set; }
    public long OrganizationId { get; set; }
    public long AccountId { get; set; }
    public long KeyId { get; set; }
    public long KeyVersion { get; set; }
    public long CreatedAtMs { get; set; }
    public long LastSeenAtMs { get; set; }
    public string ClientAddress { get; set; } = "";
}
