using Keygate.Data;
using Keygate.Keys;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Sandbox;

/// <summary>
/// Finds the org of a sandbox token. The unique HMAC column narrows the token to one key without keeping
/// anything in the database that reveals it; a constant-time comparison with the decrypted value confirms it.
/// </summary>
public static class SandboxToken
{
    public static bool IsWellFormed(string? token) => token is { Length: 32 } && token.All(char.IsAsciiLetterOrDigit);

    public static async Task<OrgSnapshot?> FindOrgAsync(string? token, AppDbContext db, KeyVault vault, OrgStateCache orgs, CancellationToken ct)
    {
        if (!IsWellFormed(token)) return null;
        var hash = vault.LookupHash(token!);
        // The database answers every time, so a regenerated or deleted token is refused at once on every node.
        var row = await db.ApiKeys.AsNoTracking()
            .Where(k => k.LookupHash == hash && k.KeyType == KeyType.SANDBOX_SUBMISSION)
            .Select(k => new { k.OrganizationId, k.Id, k.Version })
            .FirstOrDefaultAsync(ct);
        if (row is null) return null;

        var org = await orgs.GetAsync(row.OrganizationId, ct);
        if (org?.Sandbox is not { } cached || cached.Id != row.Id || cached.Version < row.Version)
        {
            // Another node changed the key after this node cached the org: read it afresh.
            orgs.Forget(row.OrganizationId);
            org = await orgs.GetAsync(row.OrganizationId, ct);
        }
        return org?.Sandbox is { } key && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(token!), Encoding.ASCII.GetBytes(key.Value)) ? org : null;
    }
}
