using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using System.Xml.Linq;

namespace Keygate.Portal;

/// <summary>
/// Encrypts the portal's Data Protection keys under the KEK before they reach the database. They sign portal
/// cookies, so whoever reads them from a database copy could forge an org admin's login and read the API key in
/// the portal: the very thing encrypting key values at rest is meant to stop.
/// </summary>
public sealed class DataProtectionKeyEncryptor(KeyVault vault) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var sealedKey = vault.EncryptDataProtectionKey(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var element = new XElement("encryptedKey",
            new XComment(" Encrypted with Keygate's key-encryption key (Keygate:Secrets). "),
            new XElement("value", Convert.ToBase64String(sealedKey)));
        return new EncryptedXmlInfo(element, typeof(DataProtectionKeyDecryptor));
    }

    /// <summary>
    /// The key ring behind portal cookies and antiforgery tokens lives in the database, encrypted under the KEK: every
    /// node reads the cookie another node issued, and a restart keeps portal logins.
    /// </summary>
    public static void Register(IServiceCollection services, KeygateOptions options)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName("keygate");
        if (DatabaseSetup.IsPostgres(options)) dataProtection.PersistKeysToDbContext<PostgresDbContext>();
        else dataProtection.PersistKeysToDbContext<SqliteDbContext>();
        services.AddOptions<KeyManagementOptions>().Configure<KeyVault>((o, vault) => o.XmlEncryptor = new DataProtectionKeyEncryptor(vault));
    }
}

/// <summary>Created by Data Protection itself (by type name, with the service provider) when it reads a key.</summary>
public sealed class DataProtectionKeyDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var value = encryptedElement.Element("value")?.Value ?? throw new InvalidOperationException("An encrypted Data Protection key has no value.");
        return XElement.Parse(services.GetRequiredService<KeyVault>().DecryptDataProtectionKey(Convert.FromBase64String(value)));
    }
}
