using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Accounts;

public static class AccountCreation
{
    /// <summary>Adds an account and its audit event in one save; a taken username (checked, and raced) is 409.</summary>
    public static async Task<KeygateError?> TryAddAsync(AppDbContext db, Account account, AuditEvent audit)
    {
        if (await db.Accounts.AnyAsync(a => a.NormalizedUsername == account.NormalizedUsername)) return KeygateError.UsernameTaken;
        db.Accounts.Add(account);
        db.AuditEvents.Add(audit);
        try
        {
            await db.SaveChangesAsync();
            return null;
        }
        catch (DbUpdateException ex) when (Db.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return KeygateError.UsernameTaken;
        }
    }
}
