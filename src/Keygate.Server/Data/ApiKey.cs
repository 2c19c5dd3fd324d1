namespace Keygate.Data;

public enum KeyType { CLOUD_SERVICE, SANDBOX_SUBMISSION }

public enum DisabledReason { THRESHOLD_EXCEEDED, TERMS_VIOLATION, OTHER }

/// <summary>Who disabled a key; a service provider may not lift the operator's disable.</summary>
public enum DisablerKind { Keygate, Operator, ServiceProvider }

public sealed class ApiKey
{
    public long Id { get; set; }
    public long OrganizationId { get; set; }
    public KeyType KeyType { get; set; }
    /// <summary>AES-256-GCM ciphertext from <see cref="KeyVault"/>, bound to Id and Version.</summary>
    public byte[] Ciphertext { get; set; } = [];
    /// <summary>HMAC of the value, only for sandbox tokens, which are looked up by value.</summary>
    public byte[]? LookupHash { get; set; }
    /// <summary>Bumped whenever the value changes (edit, regenerate).</summary>
    public long Version { get; set; } = 1;
    /// <summary>Sessions opened with an older version than this end (set on change when the org asks for it).</summary>
    public long SessionFloorVersion { get; set; } = 1;
    public DisabledReason? DisabledReason { get; set; }
    public DisablerKind? DisabledByKind { get; set; }
    public string? DisabledByName { get; set; }
    public string? DisabledNote { get; set; }
    public long? DisabledAtMs { get; set; }
    public long LastModifiedAtMs { get; set; }
    public long LastModifiedById { get; set; }
    public string LastModifiedByName { get; set; } = "";
    public long CreatedAtMs { get; set; }
}
