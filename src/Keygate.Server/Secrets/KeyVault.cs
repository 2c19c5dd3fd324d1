using Keygate.Data;
using Keygate.Kernel;
using Microsoft.Extensions.Options;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Secrets;

/// <summary>
/// Encryption at rest of key values and webhook secrets: AES-256-GCM under a key-encryption key (KEK) that lives
/// outside the database. A ciphertext is <c>[1: format][4: KEK id][12: nonce][16: tag][n: data]</c>; the associated
/// data binds it to its purpose and row (a key's id and version), so a ciphertext copied elsewhere fails to open.
/// </summary>
public sealed class KeyVault
{
    private const byte Format = 1;
    private const int HeaderSize = 1 + 4 + 12 + 16;
    private readonly byte[] _kek;
    private readonly uint _kekId;
    private readonly Dictionary<uint, byte[]> _keyring = [];
    private readonly byte[] _lookupKey;

    public KeyVault(byte[] kek, IEnumerable<byte[]>? previous = null)
    {
        if (kek.Length != 32) throw new InvalidOperationException("The key-encryption key must be 32 bytes (base64 of 32 random bytes).");
        _kek = kek;
        _kekId = IdOf(kek);
        _keyring[_kekId] = kek;
        foreach (var old in previous ?? []) _keyring.TryAdd(IdOf(old), old);
        // A separate key for lookups, derived so that the HMAC column never reveals anything about the KEK.
        _lookupKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, 32, info: "keygate sandbox token lookup"u8.ToArray());
    }

    public string KekId => _kekId.ToString("x8");

    public byte[] Encrypt(string value, long keyId, long version) => Seal(value, Aad(keyId, version));

    public string Decrypt(byte[] ciphertext, long keyId, long version) => Open(ciphertext, Aad(keyId, version));

    /// <summary>
    /// Webhook signing secrets, bound to their endpoint by associated data of their own, so that an API-key
    /// ciphertext can never be opened as a webhook secret or the other way round.
    /// </summary>
    public byte[] EncryptWebhookSecret(string secret, long endpointId) => Seal(secret, WebhookAad(endpointId));

    public string DecryptWebhookSecret(byte[] ciphertext, long endpointId) => Open(ciphertext, WebhookAad(endpointId));

    /// <summary>The portal's Data Protection keys (they sign portal cookies), bound to that purpose alone.</summary>
    public byte[] EncryptDataProtectionKey(string xml) => Seal(xml, DataProtectionAad);

    public string DecryptDataProtectionKey(byte[] ciphertext) => Open(ciphertext, DataProtectionAad);

    /// <summary>The gateway's identity-token signing keys (PKCS#8, base64), bound to their key id.</summary>
    public byte[] EncryptSigningKey(string pkcs8, string kid) => Seal(pkcs8, Encoding.ASCII.GetBytes($"keygate:signing-key:{kid}"));

    public string DecryptSigningKey(byte[] ciphertext, string kid) => Open(ciphertext, Encoding.ASCII.GetBytes($"keygate:signing-key:{kid}"));

    private static readonly byte[] DataProtectionAad = "keygate:data-protection-key"u8.ToArray();

    private byte[] Seal(string value, byte[] aad)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var output = new byte[HeaderSize + plain.Length];
        output[0] = Format;
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(1, 4), _kekId);
        var nonce = output.AsSpan(5, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_kek, 16);
        aes.Encrypt(nonce, plain, output.AsSpan(HeaderSize), output.AsSpan(17, 16), aad);
        CryptographicOperations.ZeroMemory(plain);
        return output;
    }

    private string Open(byte[] ciphertext, byte[] aad)
    {
        if (ciphertext.Length < HeaderSize || ciphertext[0] != Format)
            throw new CryptographicException("Unknown ciphertext format.");
        var id = BinaryPrimitives.ReadUInt32BigEndian(ciphertext.AsSpan(1, 4));
        if (!_keyring.TryGetValue(id, out var kek))
            throw new CryptographicException($"Ciphertext was made under KEK {id:x8}, which is not configured.");
        var plain = new byte[ciphertext.Length - HeaderSize];
        using var aes = new AesGcm(kek, 16);
        aes.Decrypt(ciphertext.AsSpan(5, 12), ciphertext.AsSpan(HeaderSize), ciphertext.AsSpan(17, 16), plain, aad);
        return Encoding.UTF8.GetString(plain);
    }

    public byte[] LookupHash(string token) => HMACSHA256.HashData(_lookupKey, Encoding.UTF8.GetBytes(token));

    private static byte[] Aad(long keyId, long version) => Encoding.ASCII.GetBytes($"keygate:api-key:{keyId}:{version}");

    private static byte[] WebhookAad(long endpointId) => Encoding.ASCII.GetBytes($"keygate:webhook-secret:{endpointId}");

    private static uint IdOf(byte[] kek) => BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(kek));

    /// <summary>
    /// The KEK comes from configuration; only a single SQLite node may keep it in a file of its own, created
    /// 0600 at first start in a folder apart from the database, because then no other node needs it.
    /// </summary>
    public static KeyVault Create(IOptions<KeygateOptions> options, IHostEnvironment env)
    {
        var o = options.Value;
        var previous = o.Secrets.PreviousKeyEncryptionKeys.Select(ParseKek).ToList();
        if (!string.IsNullOrWhiteSpace(o.Secrets.KeyEncryptionKey))
            return new KeyVault(ParseKek(o.Secrets.KeyEncryptionKey), previous);
        if (DatabaseSetup.IsPostgres(o))
            throw new InvalidOperationException(
                "Keygate:Secrets:KeyEncryptionKey must be configured on PostgreSQL (every node shares it). " +
                "Generate one with: openssl rand -base64 32");

        var path = KeyFilePath(o, env);
        if (!File.Exists(path))
        {
            PrivateFiles.CreateFolder(Path.GetDirectoryName(path)!);
            var fresh = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            using (var w = new StreamWriter(PrivateFiles.Open(path, FileMode.CreateNew), Encoding.ASCII)) w.Write(fresh);
        }
        return new KeyVault(ParseKek(File.ReadAllText(path).Trim()), previous);
    }

    /// <summary>The KEK file; its folder also takes the first-start credentials (<see cref="Bootstrap"/>).</summary>
    public static string KeyFilePath(KeygateOptions o, IHostEnvironment env) => Path.GetFullPath(o.Secrets.KeyFile, env.ContentRootPath);

    private static byte[] ParseKek(string base64)
    {
        try { return Convert.FromBase64String(base64.Trim()); }
        catch (FormatException) { throw new InvalidOperationException("A key-encryption key is not valid base64."); }
    }
}
