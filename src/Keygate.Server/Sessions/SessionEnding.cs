using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Sessions;

/// <summary>The org-wide "end all sessions" of the portal, with its rights check and audit event.</summary>
public sealed class SessionEnding(AppDbContext db, SessionStore sessions, TimeProvider clock)
{
    /// <summary>
    /// Ends every legacy session of the org at once ("end all" in the portal): an admin who may change keys
    /// (APIKEY_MANAGEMENT READ_WRITE) or the provider side may; others may not. Returns how many ended.
    /// </summary>
    public async Task<Result<int>> EndAllAsync(Actor actor, long orgId)
    {
        var org = await db.Organizations.AsNoTracking().Where(o => o.Id == orgId).Select(o => new { o.Id, o.ServiceProviderId }).FirstOrDefaultAsync();
        if (org is null || !actor.CanSee(org.Id, org.ServiceProviderId)) return KeygateError.NotFound;
        if (actor.Kind == ActorKind.OrgAdmin && !actor.Rights.CanChangeKeys)
        {
            db.AuditEvents.Add(AuditLog.Event(actor, orgId, "sessions.end_all", null, KeygateError.AccessDenied.Code, clock.Now()));
            await db.SaveChangesAsync();
            return KeygateError.AccessDenied;
        }
        return await sessions.EndAllAsync(orgId, AuditLog.Event(actor, orgId, "sessions.end_all", null, AuditLog.Success, clock.Now()));
    }
}
