namespace Keygate.Data;

/// <summary>
/// An ES256 key that signs the gateway's identity tokens (contract A7), shared by every node. The private key is
/// stored encrypted under the KEK; the newest unretired key signs, and a retired one stays in the JWKS until every
/// token it signed has expired.
/// </summary>
public sealed class SigningKey
{
    public long Id { get; set; }
    /// <summary>The JWS "kid".</summary>
    public string Kid { get; set; } = "";
    /// <summary>The PKCS#8 private key, sealed by <see cref="Secrets.KeyVault.EncryptSigningKey"/>.</summary>
    public byte[] PrivateKey { get; set; } = [];
    public long CreatedAtMs { get; set; }
    /// <summary>When a newer key took over signing; null while this one signs.</summary>
    public long? RetiredAtMs { get; set; }
}
