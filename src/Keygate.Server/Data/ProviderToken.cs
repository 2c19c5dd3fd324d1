namespace Keygate.Data;

/// <summary>A provider API bearer token, stored only as its SHA-256.</summary>
public sealed class ProviderToken
{
    public long Id { get; set; }
    public required byte[] Hash { get; set; }
    /// <summary>Null for the operator; else the service provider the token speaks for.</summary>
    public long? ServiceProviderId { get; set; }
    public string Name { get; set; } = "";
    public long CreatedAtMs { get; set; }
}
