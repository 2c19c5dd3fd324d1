using Keygate.Kernel;
using Keygate.Secrets;
using Keygate.Sessions;

namespace Keygate.Accounts;

/// <summary>
/// An admin changes their own password (contract A8), as the legacy passwordChange and the portal's password page both
/// offer it: the new password's policy first (no hashing, no failure counted), then the old password checked under the
/// login throttle, so a wrong one counts as a failed login of this admin (A2) wherever it was tried.
/// </summary>
public sealed class OwnPasswordChange(AdminDirectory directory, LoginThrottle throttle)
{
    public static KeygateError TooManyFailedLogins(int retryAfterSeconds) =>
        new(429, "TOO_MANY_FAILED_LOGINS", "Too many failed logins; try again later.") { RetryAfterSeconds = retryAfterSeconds };

    /// <param name="keepSession">The legacy session asking (its id's hash), which stays open; null from the portal.</param>
    public async Task<KeygateError?> ChangeAsync(Actor actor, long orgId, string userName, string oldPassword, string? newPassword,
        byte[]? keepSession, CancellationToken ct)
    {
        if (newPassword is null || !AdminDirectory.IsAcceptablePassword(actor.Name, newPassword)) return KeygateError.InvalidPassword;
        await using var attempt = await throttle.BeginAsync(actor.Name, actor.ClientAddress);
        if (attempt.Busy) return Passwords.Busy;
        if (attempt.RetryAfter is { } wait) return TooManyFailedLogins(wait);
        var error = await directory.ChangeOwnPasswordAsync(actor, orgId, userName, oldPassword, newPassword, keepSession, ct);
        if (error == KeygateError.InvalidUsernameOrPassword) attempt.Fail();
        return error;
    }
}
