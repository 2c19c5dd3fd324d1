namespace Keygate.Data;

/// <summary>
/// A portal login that was logged out. Its cookie is self-contained, so every copy of it is refused until it could
/// no longer work anyway (the login's absolute lifetime). Only the SHA-256 of the login's random id is stored.
/// </summary>
public sealed class PortalLogout
{
    public required byte[] SessionHash { get; set; }
    public long ExpiresAtMs { get; set; }
}
