using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Keygate.Sessions;
using Microsoft.EntityFrameworkCore;
using System.Security.Cryptography;

namespace Keygate.Accounts;

/// <summary>
/// The provider side's changes to logins over time (contract B): staff disabled, re-passworded or deleted, and org
/// admins' passwords reset. Each is audited in its own transaction. Console and portal cookies carry a digest of the
/// password hash and are checked against the account on every portal request (PortalAuth), so these changes end the
/// login's browser sessions on every node at their next request; legacy sessions are ended here.
/// </summary>
public sealed class AccountChanges(AppDbContext db, Passwords passwords, SessionStore sessions, TimeProvider clock)
{
    private const string TemporaryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

    /// <summary>Staff the actor may manage: the operator every login of the console, a service provider its own.</summary>
    public IQueryable<Account> VisibleStaff(Actor actor)
    {
        var staff = db.Accounts.Where(a => a.Kind == AccountKind.Staff);
        return actor.Kind == ActorKind.Operator ? staff : staff.Where(a => a.ServiceProviderId == actor.ServiceProviderId);
    }

    public async Task<Result<Account>> UpdateStaffAsync(Actor actor, long id, bool? disabled, string? password)
    {
        if (await VisibleStaff(actor).FirstOrDefaultAsync(a => a.Id == id) is not { } account) return KeygateError.NotFound;
        if (password is not null && Passwords.Validate(account.Username, password) is { } invalid) return invalid;
        var detail = new List<string> { $"username={account.Username}" };
        if (disabled is { } d) { account.Disabled = d; detail.Add($"disabled={d}"); }
        if (password is not null) { account.PasswordHash = passwords.Hash(password); detail.Add("password"); }
        db.AuditEvents.Add(AuditLog.Event(actor, null, "staff.update", null, AuditLog.Success, clock.Now(), string.Join(' ', detail)));
        await db.SaveChangesAsync();
        return account;
    }

    public async Task<KeygateError?> DeleteStaffAsync(Actor actor, long id)
    {
        if (await VisibleStaff(actor).FirstOrDefaultAsync(a => a.Id == id) is not { } account) return KeygateError.NotFound;
        db.Accounts.Remove(account);
        db.AuditEvents.Add(AuditLog.Event(actor, null, "staff.delete", null, AuditLog.Success, clock.Now(), $"username={account.Username}"));
        await db.SaveChangesAsync();
        return null;
    }

    /// <summary>
    /// Gives an org admin a temporary password that must be changed at the next login (contract A8), and ends every
    /// session of theirs. The org must be one the actor may see (the caller checked). Returns the password, shown once.
    /// </summary>
    public async Task<Result<string>> ResetAdminPasswordAsync(Actor actor, long orgId, long adminId)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == adminId && a.OrganizationId == orgId && a.Kind == AccountKind.OrgAdmin);
        if (account is null) return KeygateError.NotFound;
        var temporary = RandomNumberGenerator.GetString(TemporaryAlphabet, 20);
        account.PasswordHash = passwords.Hash(temporary);
        account.PasswordMustChange = true;
        await using var tx = await db.Database.BeginTransactionAsync();
        // Audited in the org's own log: a reset, like a new admin, gives the provider side a way to the key.
        db.AuditEvents.Add(AuditLog.Event(actor, orgId, "admin.reset_password", null, AuditLog.Success, clock.Now(), $"username={account.Username}"));
        await db.SaveChangesAsync();
        var version = await sessions.EndOfAccountAsync(db, orgId, account.Id);
        await tx.CommitAsync();
        await sessions.ForgetEndedAsync(orgId, account.Id, version);
        return temporary;
    }
}
