using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Keygate.Data;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Identity;

/// <summary>
/// The ES256 keys that sign identity tokens (contract A7): generated at first start, stored encrypted under the KEK in
/// the database every node shares, and rotated without downtime. The newest unretired key signs; a retired key stays
/// published until every token it (or a node that had not yet seen the rotation) signed has expired.
/// </summary>
public sealed class SigningKeyRing(IServiceScopeFactory scopes, KeyVault vault, TimeProvider clock, ILogger<SigningKeyRing> log)
{
    /// <summary>How often a node looks for a key another node rotated in.</summary>
    public static readonly TimeSpan ReloadEvery = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long a retired key stays in the JWKS: a node may sign with it until its next reload, and the token then
    /// lives <see cref="IdentityTokens.Lifetime"/>; a margin covers clock skew.
    /// </summary>
    public static readonly TimeSpan KeepRetired = ReloadEvery + IdentityTokens.Lifetime + TimeSpan.FromMinutes(2);

    /// <summary>The key that signs now.</summary>
    public sealed record Signer(string Kid, ECDsa Key);

    private volatile Signer? _current;
    private long _loadedAtMs = long.MinValue;
    private int _reloading;

    /// <summary>The key to sign with; a stale copy starts a reload in the background and is used meanwhile.</summary>
    public async ValueTask<Signer> CurrentAsync()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_current is { } current)
        {
            if (now - Interlocked.Read(ref _loadedAtMs) >= ReloadEvery.TotalMilliseconds && Interlocked.Exchange(ref _reloading, 1) == 0)
                _ = Task.Run(async () =>
                {
                    try { await LoadAsync(); }
                    catch (Exception e) { log.LogWarning("Could not reload the signing keys: {Error}", e.Message); }
                    finally { Volatile.Write(ref _reloading, 0); }
                });
            return current;
        }
        return await LoadAsync();
    }

    /// <summary>Reads the signing key from the database, making the first one if there is none.</summary>
    public async Task<Signer> LoadAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await Newest(db) ?? await CreateAsync(db, retireOthers: false);
        return Use(row);
    }

    /// <summary>A new key signs from now on (on this node at once, on the others within <see cref="ReloadEvery"/>); the old ones retire.</summary>
    /// <param name="audit">Saved in the same transaction as the new key.</param>
    public async Task<string> RotateAsync(AuditEvent audit)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await CreateAsync(db, retireOthers: true, audit);
        log.LogInformation("Rotated the identity-token signing key; {Kid} signs now.", row.Kid);
        return Use(row).Kid;
    }

    /// <summary>GET /.well-known/jwks.json: the public halves of the signing key and of the retired keys still trusted.</summary>
    public async Task<string> JwksAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var since = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)KeepRetired.TotalMilliseconds;
        var rows = await db.SigningKeys.AsNoTracking().Where(k => k.RetiredAtMs == null || k.RetiredAtMs > since)
            .OrderByDescending(k => k.Id).ToListAsync(ct);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("keys");
            foreach (var row in rows)
            {
                using var key = Open(row);
                var q = key.ExportParameters(includePrivateParameters: false).Q;
                w.WriteStartObject();
                w.WriteString("kty", "EC");
                w.WriteString("crv", "P-256");
                w.WriteString("use", "sig");
                w.WriteString("alg", "ES256");
                w.WriteString("kid", row.Kid);
                w.WriteString("x", Base64Url.EncodeToString(q.X));
                w.WriteString("y", Base64Url.EncodeToString(q.Y));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static Task<SigningKey?> Newest(AppDbContext db) =>
        db.SigningKeys.AsNoTracking().Where(k => k.RetiredAtMs == null).OrderByDescending(k => k.Id).FirstOrDefaultAsync();

    private async Task<SigningKey> CreateAsync(AppDbContext db, bool retireOthers, AuditEvent? audit = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = "kg-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new SigningKey
        {
            Kid = kid,
            PrivateKey = vault.EncryptSigningKey(Convert.ToBase64String(key.ExportPkcs8PrivateKey()), kid),
            CreatedAtMs = now,
        };
        await using var tx = await db.Database.BeginTransactionAsync();
        if (retireOthers)
            await db.SigningKeys.Where(k => k.RetiredAtMs == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.RetiredAtMs, now));
        db.SigningKeys.Add(row);
        if (audit is not null)
        {
            audit.Detail = $"kid={kid}";
            db.AuditEvents.Add(audit);
        }
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        // Two nodes starting on an empty table at once each made one: both are published, and every node signs with the newest.
        return retireOthers ? row : (await Newest(db))!;
    }

    private Signer Use(SigningKey row)
    {
        if (_current is { } old && old.Kid == row.Kid)
        {
            Interlocked.Exchange(ref _loadedAtMs, clock.GetUtcNow().ToUnixTimeMilliseconds());
            return old;
        }
        // The replaced ECDsa is not disposed: a request may be signing with it right now. Rotations are rare.
        var signer = new Signer(row.Kid, Open(row));
        _current = signer;
        Interlocked.Exchange(ref _loadedAtMs, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return signer;
    }

    private ECDsa Open(SigningKey row)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(vault.DecryptSigningKey(row.PrivateKey, row.Kid)), out _);
        return key;
    }
}
