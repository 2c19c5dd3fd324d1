using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Keygate.Accounts;

/// <summary>
/// Provider API bearer tokens: <c>kgp_</c> (operator) or <c>kgs_</c> (service provider), 256 random bits in
/// base62, then a 6-character checksum so secret scanners can tell a real token from noise. Only the SHA-256
/// is stored; the token is shown once.
/// </summary>
public static class ProviderTokens
{
    public const string OperatorPrefix = "kgp_";
    public const string ServiceProviderPrefix = "kgs_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int BodyLength = 43; // 43 base62 characters carry 256 bits

    public static string Generate(string prefix)
    {
        var body = RandomNumberGenerator.GetString(Base62, BodyLength);
        return prefix + body + Checksum(prefix + body);
    }

    public static bool IsWellFormed(string token)
    {
        if (!(token.StartsWith(OperatorPrefix, StringComparison.Ordinal) || token.StartsWith(ServiceProviderPrefix, StringComparison.Ordinal))) return false;
        if (token.Length != 4 + BodyLength + 6 || token.AsSpan(4).ContainsAnyExcept(Base62)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Checksum(token[..^6])), Encoding.ASCII.GetBytes(token[^6..]));
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The stored row of a new token: its hash and its first characters, never the token.</summary>
    public static Data.ProviderToken Row(string token, long? serviceProviderId, string name, long nowMs, long? expiresAtMs = null) => new()
    {
        Hash = Hash(token), Prefix = token[..8], ServiceProviderId = serviceProviderId, Name = name, CreatedAtMs = nowMs, ExpiresAtMs = expiresAtMs,
    };

    private static string Checksum(string s)
    {
        var n = BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.ASCII.GetBytes(s)));
        Span<char> c = stackalloc char[6];
        for (var i = 5; i >= 0; i--) { c[i] = Base62[(int)(n % 62)]; n /= 62; }
        return new string(c);
    }
}
