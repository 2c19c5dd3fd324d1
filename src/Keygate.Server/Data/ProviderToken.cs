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
    /// <summary>The token's first characters (its kind prefix and four more), so people can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>Refused from this instant on (epoch ms); null never expires. A rotation sets it to the end of the grace period.</summary>
    public long? ExpiresAtMs { get; set; }
    public long? RevokedAtMs { get; set; }
    /// <summary>Updated at most once a minute, so using a token costs no write per request.</summary>
    public long? LastUsedAtMs { get; set; }

    public bool IsLive(long nowMs) => RevokedAtMs is null && (ExpiresAtMs is null || nowMs < ExpiresAtMs);
}
