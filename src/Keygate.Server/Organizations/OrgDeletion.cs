using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Keygate.Sessions;
using Keygate.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Organizations;

/// <summary>
/// Deletes a suspended org for good (contract B): its keys and every secret (key ciphertexts, sandbox lookup hashes,
/// webhook secrets, admins' password hashes, session hashes) go in one transaction with its admins (their login names
/// become free), usage and webhooks; only its audit log stays, closed by an org.deleted event. Then every node forgets
/// the org, so it is 404 everywhere and its sessions end at their next request.
/// </summary>
public sealed class OrgDeletion(AppDbContext db, OrgStateCache cache, SessionStore sessions, IUsageCounter usage, AuditWriter audit, TimeProvider clock)
{
    public async Task<KeygateError?> DeleteAsync(Actor actor, long orgId)
    {
        using var turn = await cache.ChangeTurnAsync(orgId);
        var org = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orgId);
        if (org is null || !actor.CanSee(org.Id, org.ServiceProviderId)) return KeygateError.NotFound;
        if (!actor.IsProviderSide) return KeygateError.AccessDenied;
        var now = clock.Now();
        // Deleting only what was suspended gives a second look before the point of no return.
        if (!org.Suspended)
        {
            db.AuditEvents.Add(AuditLog.Event(actor, orgId, "org.delete", null, KeygateError.OrgNotSuspended.Code, now));
            await db.SaveChangesAsync();
            return KeygateError.OrgNotSuspended;
        }

        // Logins audit through a queue: what this node queued of the org lands before org.deleted closes its log
        // (a portal login's event was written after it, 1 CI run in many: DeletionTests).
        await audit.FlushAsync();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            // The org row is the concurrency point: a change that committed since the read above makes this delete nothing.
            if (await db.Organizations.Where(o => o.Id == orgId && o.StateVersion == org.StateVersion && o.Suspended).ExecuteDeleteAsync() == 0)
                return KeygateError.Conflict;
            await db.LegacySessions.Where(s => s.OrganizationId == orgId).ExecuteDeleteAsync();
            await db.ApiKeys.Where(k => k.OrganizationId == orgId).ExecuteDeleteAsync();
            await db.Accounts.Where(a => a.OrganizationId == orgId).ExecuteDeleteAsync();
            await db.WebhookEndpoints.Where(w => w.OrganizationId == orgId).ExecuteDeleteAsync();
            await db.WebhookEvents.Where(w => w.OrganizationId == orgId).ExecuteDeleteAsync();
            await DropUsageAsync(orgId);
            db.AuditEvents.Add(AuditLog.Event(actor, orgId, "org.deleted", null, AuditLog.Success, now, $"name={org.Name}"));
            // Sent to the service provider's and the operator's receivers: the org's own went with it.
            WebhookOutbox.Add(db, WebhookOutbox.OrgDeleted, orgId, org.ServiceProviderId, new { name = org.Name, by = actor.Name }, now);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }
        sessions.ForgetOrg(orgId);
        await cache.ForgetEverywhereAsync(orgId, org.StateVersion);
        // The live counters go too, then their rows once more: a flush that took them before the Forget may have written them back.
        usage.Forget(orgId);
        await DropUsageAsync(orgId);
        return null;
    }

    private async Task DropUsageAsync(long orgId)
    {
        await db.MeterStates.Where(m => m.OrganizationId == orgId).ExecuteDeleteAsync();
        await db.MeterWindows.Where(m => m.OrganizationId == orgId).ExecuteDeleteAsync();
        await db.UsageBuckets.Where(u => u.OrganizationId == orgId).ExecuteDeleteAsync();
    }
}
