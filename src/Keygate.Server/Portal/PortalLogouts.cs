using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Portal;

/// <summary>
/// Portal cookies are self-contained, so deleting one at logout would not stop a copy of it. A logout is a row in
/// the database (contract A2: refused on every node and after any restart), kept until the login's absolute
/// lifetime is over. Every portal request asks the database unless this node already knows the login is logged
/// out: a logout is never undone, so what a node knows is never wrong, and a logout on another node is seen at the
/// next request. While the database is unreachable the question fails, and the request with it (503): a logged-out
/// cookie is never let in for want of an answer.
/// </summary>
public sealed class PortalLogouts(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>Logged-out login ids this node has seen, with the end of their row.</summary>
    private readonly ConcurrentDictionary<string, long> _known = new();

    /// <summary>Records the logout in the database (a failure fails the logout), and prunes rows whose logins are over.</summary>
    public async Task AddAsync(string sessionId, long loginAtMs)
    {
        var now = clock.Now();
        var until = Math.Max(now, loginAtMs) + (long)PortalAuth.MaxLifetime.TotalMilliseconds;
        var hash = Hash(sessionId);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.PortalLogouts.Where(l => l.ExpiresAtMs <= now).ExecuteDeleteAsync();
        if (!await db.PortalLogouts.AnyAsync(l => l.SessionHash == hash))
        {
            db.PortalLogouts.Add(new PortalLogout { SessionHash = hash, ExpiresAtMs = until });
            try { await db.SaveChangesAsync(); }
            catch (DbUpdateException e) when (Db.IsUniqueViolation(e)) { } // a copy of the cookie logged out at the same moment
        }
        Remember(sessionId, until, now);
    }

    public async ValueTask<bool> IsLoggedOutAsync(string sessionId)
    {
        var now = clock.Now();
        if (_known.TryGetValue(sessionId, out var known) && known > now) return true;
        var hash = Hash(sessionId);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var until = await db.PortalLogouts.Where(l => l.SessionHash == hash && l.ExpiresAtMs > now)
            .Select(l => (long?)l.ExpiresAtMs).FirstOrDefaultAsync();
        if (until is null) return false;
        Remember(sessionId, until.Value, now);
        return true;
    }

    private void Remember(string sessionId, long until, long now)
    {
        foreach (var (id, end) in _known)
            if (end <= now) _known.TryRemove(id, out _);
        _known[sessionId] = until;
    }

    private static byte[] Hash(string sessionId) => SHA256.HashData(Encoding.UTF8.GetBytes(sessionId));
}
