using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Accounts;

/// <summary>
/// The provider side's changes to its staff's console logins over time (contract B): disabled, re-passworded or
/// deleted, each audited. Console cookies carry a digest of the password hash and are checked against the account on
/// every console request (PortalAuth), so these changes end the login's console sessions on every node at their next
/// request. (An org admin's password reset is an admin change: AdminDirectory.ResetPasswordAsync.)
/// </summary>
public sealed class AccountChanges(AppDbContext db, Passwords passwords, TimeProvider clock)
{
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
}
