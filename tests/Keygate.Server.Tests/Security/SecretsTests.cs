using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Keygate.Tests;

/// <summary>Secrets stay secret: no key value, password or token in the database file or in any log line.</summary>
public sealed class SecretsTests
{
    /// <summary>
    /// The portal's Data Protection keys sign its cookies: read from a database copy they would let anyone forge an
    /// org admin's portal login and read the API key there. They are stored encrypted under the KEK.
    /// </summary>
    [Fact]
    public async Task PortalDataProtectionKeysAreStoredEncryptedUnderTheKekAndReadAfterARestart()
    {
        await using var first = new KeygateApp();
        var payload = first.Service<IDataProtectionProvider>().CreateProtector("keygate test").Protect("portal cookie");
        await using (var scope = first.Services.CreateAsyncScope())
        {
            var rows = await scope.ServiceProvider.GetRequiredService<AppDbContext>().DataProtectionKeys.Select(k => k.Xml).ToListAsync(TestContext.Current.CancellationToken);
            Assert.NotEmpty(rows);
            Assert.All(rows, xml =>
            {
                Assert.DoesNotContain("<masterKey", xml!);
                Assert.Contains("encryptedSecret", xml!);
                Assert.Contains(typeof(Portal.DataProtectionKeyDecryptor).FullName!, xml!);
            });
        }

        // A restart reads the key back from the database through the KEK.
        await using var second = KeygateApp.Reopen(first);
        await first.DisposeAsync();
        Assert.Equal("portal cookie", second.Service<IDataProtectionProvider>().CreateProtector("keygate test").Unprotect(payload));
    }

    /// <summary>
    /// Puts every kind of secret through the server (key values set, regenerated and added, failed logins, a provider
    /// token) and checks the audit holds none of them; returns the stopped app and the secrets.
    /// </summary>
    private static async Task<(KeygateApp App, List<string> Secrets)> SecretsThroughTheServerAsync()
    {
        var app = new KeygateApp();
        var secrets = new List<string> { app.OperatorToken, Scenario.Password };
        long orgId;
        await using (app)
        {
            var org = await app.CreateOrgAsync();
            orgId = org.Id;
            using var session = await app.SessionAsync(org);
            secrets.Add(await app.KeyValueAsync(org));
            // An edit to a value we know, a regenerate, and a sandbox key.
            const string edited = "Zq9Wx8Vy7Ut6";
            await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Scenario.Json(new { keyValue = edited }))).AssertOk();
            secrets.Add(edited);
            var regenerated = await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
            secrets.Add(regenerated.GetProperty("keyValue").GetString()!);
            var sandbox = await (await session.PostAsync("/api/v1/apiKeys", Scenario.Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
            secrets.Add(sandbox.GetProperty("keyValue").GetString()!);
            // Failed logins with a wrong password and a wrong key are logged and audited without either.
            await app.LoginAsync(org.Username, "wrong password 123", regenerated.GetProperty("keyValue").GetString()!);
            await app.LoginAsync(org.Username, org.Password, "Wr0ngKeyAbcd");
            var sp = await (await app.Provider().PostAsync("/provider/v1/serviceProviders", Scenario.Json(new { name = "Reseller" }))).AssertOk(HttpStatusCode.Created);
            secrets.Add(sp.GetProperty("token").GetString()!);
            await app.Service<AuditWriter>().FlushAsync();
            var audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).Content.ReadAsStringAsync();
            foreach (var s in secrets) Assert.DoesNotContain(s, audit);
        }

        return (app, secrets);
    }

    [Fact]
    public async Task LogsAndAuditNeverHoldAKeyValuePasswordOrTokenInClear()
    {
        var (app, secrets) = await SecretsThroughTheServerAsync();
        var logs = string.Join('\n', app.Logs);
        Assert.NotEmpty(app.Logs);
        foreach (var s in secrets) Assert.DoesNotContain(s, logs);
    }

    [Fact]
    public async Task TheSqliteDatabaseFilesNeverHoldAKeyValuePasswordOrTokenInClear()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, "The database files are SQLite's; the SQLite pass checks them.");
        var (app, secrets) = await SecretsThroughTheServerAsync();
        var files = Directory.GetFiles(Path.GetDirectoryName(app.DatabasePath)!);
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            foreach (var s in secrets)
            {
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(s)));
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(s)));
            }
        }
    }

    [Fact]
    public void CiphertextIsBoundToItsKeyIdAndVersion()
    {
        var vault = new KeyVault(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var c = vault.Encrypt("AbCdEfGh1234", 7, 3);
        Assert.Equal("AbCdEfGh1234", vault.Decrypt(c, 7, 3));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => vault.Decrypt(c, 8, 3));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => vault.Decrypt(c, 7, 4));
        var other = new KeyVault(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => other.Decrypt(c, 7, 3));
        // A rotated KEK still opens what the previous one sealed.
        var oldKek = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var sealedByOld = new KeyVault(oldKek).Encrypt("AbCdEfGh1234", 1, 1);
        Assert.Equal("AbCdEfGh1234", new KeyVault(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), [oldKek]).Decrypt(sealedByOld, 1, 1));
    }

    [Fact]
    public async Task SqliteNodeWithoutConfiguredKekCreatesAPrivateKeyFileOutsideTheDataFolder()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, "The file KEK exists only for a single SQLite node; the SQLite pass checks it.");
        await using var app = KeygateApp.With(new() { ["Keygate:Secrets:KeyEncryptionKey"] = "" });
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        var file = Path.Combine(app.Folder, "secrets", "kek.key");
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.NotEqual(Path.GetDirectoryName(file), Path.GetDirectoryName(app.DatabasePath));
    }

    [Fact]
    public void PostgresWithoutConfiguredKekRefusesToStart()
    {
        using var app = KeygateApp.With(new()
        {
            ["Keygate:Database:Provider"] = "Postgres",
            ["ConnectionStrings:Keygate"] = "Host=127.0.0.1;Database=never_used",
            ["Keygate:Secrets:KeyEncryptionKey"] = "",
        });
        var e = Assert.ThrowsAny<Exception>(() => app.Server);
        Assert.Contains("KeyEncryptionKey", e.ToString());
    }
}
