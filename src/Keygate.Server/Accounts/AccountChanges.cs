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

    /// <summary>A new console login of the actor's side (the operator may name a service provider); the name is unique across every account.</summary>
    public async Task<Result<Account>> CreateStaffAsync(Actor actor, string username, string password, long? serviceProviderId)
    {
        if (Passwords.Validate(username, password) is { } invalid) return invalid;
        var owner = await Owners.ResolveAsync(db, actor, serviceProviderId);
        if (owner.Error is { } notOwned) return notOwned;
        var now = clock.Now();
        var account = new Account
        {
            Kind = AccountKind.Staff, Username = username.Trim(), NormalizedUsername = Account.Normalize(username),
            PasswordHash = passwords.Hash(password), ServiceProviderId = owner.Value, CreatedAtMs = now,
        };
        var taken = await AccountCreation.TryAddAsync(db, account,
            AuditLog.Event(actor, null, "staff.create", null, AuditLog.Success, now, $"username={account.Username}"));
        return taken is { } e ? e : account;
    }

    /// <param name="self">The console login asking, if any: it may set its own password but not disable itself (CANNOT_CHANGE_OWN_ACCOUNT).</param>
    public async Task<Result<Account>> UpdateStaffAsync(Actor actor, long id, bool? disabled, string? password, long? self = null)
    {
        if (await VisibleStaff(actor).FirstOrDefaultAsync(a => a.Id == id) is not { } account) return KeygateError.NotFound;
        if (id == self && disabled == true) return await RefusedAsync(actor, "staff.update", account, KeygateError.CannotChangeOwnAccount);
        if (password is not null && Passwords.Validate(account.Username, password) is { } invalid) return invalid;
        var detail = new List<string> { $"username={account.Username}" };
        if (disabled is { } d) { account.Disabled = d; detail.Add($"disabled={d}"); }
        if (password is not null) { account.PasswordHash = passwords.Hash(password); detail.Add("password"); }
        db.AuditEvents.Add(AuditLog.Event(actor, null, "staff.update", null, AuditLog.Success, clock.Now(), string.Join(' ', detail)));
        await db.SaveChangesAsync();
        return account;
    }

    /// <param name="self">The console login asking, if any: it cannot delete itself (CANNOT_CHANGE_OWN_ACCOUNT).</param>
    public async Task<KeygateError?> DeleteStaffAsync(Actor actor, long id, long? self = null)
    {
        if (await VisibleStaff(actor).FirstOrDefaultAsync(a => a.Id == id) is not { } account) return KeygateError.NotFound;
        if (id == self) return await RefusedAsync(actor, "staff.delete", account, KeygateError.CannotChangeOwnAccount);
        db.Accounts.Remove(account);
        db.AuditEvents.Add(AuditLog.Event(actor, null, "staff.delete", null, AuditLog.Success, clock.Now(), $"username={account.Username}"));
        await db.SaveChangesAsync();
        return null;
    }

    private async Task<KeygateError> RefusedAsync(Actor actor, string action, Account account, KeygateError refusal)
    {
        db.ChangeTracker.Clear();
        db.AuditEvents.Add(AuditLog.Event(actor, null, action, null, refusal.Code, clock.Now(), $"username={account.Username}"));
        await db.SaveChangesAsync();
        return refusal;
    }
}
