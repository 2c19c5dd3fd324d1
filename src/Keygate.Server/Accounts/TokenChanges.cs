using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using System.ComponentModel.DataAnnotations;
using System.Data;

namespace Keygate.Accounts;

/// <summary>POST /tokens. expiresAt is epoch seconds up to 9999-12-31 (and must be in the future), or null for never.</summary>
public sealed record CreateTokenRequest([property: Required, Name] string Name,
    [property: Range(0, 253402300799, ErrorMessage = "expiresAt must be epoch seconds or null.")] long? ExpiresAt = null,
    long? ServiceProviderId = null);

/// <summary>POST /tokens/{id}/rotate: how long the old token keeps working, up to a week (default a day).</summary>
public sealed record RotateTokenRequest(
    [property: Range(0, 604800, ErrorMessage = "graceSeconds must be 0 to 604800.")] int? GraceSeconds = null);

/// <summary>A token just made: its row and the token itself, which is shown this once and never stored.</summary>
public sealed record NewToken(ProviderToken Row, string Token);

/// <summary>
/// Provider API tokens over time (contract B), for the provider API and the console alike: create with an expiry, rotate
/// with a grace period, revoke. The operator manages every token, a service provider only its own (another's is 404).
/// Authentication reads the token row on every call, so a revocation is refused by every node at the next request.
/// </summary>
public sealed class TokenChanges(AppDbContext db, TimeProvider clock)
{
    public const int DefaultGraceSeconds = 86_400;
    public const int MaxGraceSeconds = 604_800;

    public IQueryable<ProviderToken> Visible(Actor actor) =>
        actor.Kind == ActorKind.Operator ? db.ProviderTokens : db.ProviderTokens.Where(t => t.ServiceProviderId == actor.ServiceProviderId);

    /// <param name="expiresAt">Epoch seconds, in the future; null never expires.</param>
    public async Task<Result<NewToken>> CreateAsync(Actor actor, string name, long? expiresAt, long? serviceProviderId)
    {
        var now = clock.Now();
        if (expiresAt is { } at && at * 1000 <= now) return KeygateError.Invalid("expiresAt", "expiresAt must be in the future.");
        var owner = await Owners.ResolveAsync(db, actor, serviceProviderId);
        if (owner.Error is { } notOwned) return notOwned;
        var token = ProviderTokens.Generate(owner.Value is null ? ProviderTokens.OperatorPrefix : ProviderTokens.ServiceProviderPrefix);
        var row = ProviderTokens.Row(token, owner.Value, name.Trim(), now, expiresAt * 1000);
        db.ProviderTokens.Add(row);
        await db.SaveChangesAsync();
        db.AuditEvents.Add(Audit(actor, "token.create", now, row, $"expiresAt={expiresAt?.ToString() ?? "never"}"));
        await db.SaveChangesAsync();
        return new NewToken(row, token);
    }

    /// <summary>A new token in the old one's place, with its name and expiry; the old one ends with the grace period (or sooner, if it expires sooner).</summary>
    public async Task<Result<NewToken>> RotateAsync(Actor actor, long id, int graceSeconds)
    {
        if (await Visible(actor).FirstOrDefaultAsync(t => t.Id == id) is not { } old) return KeygateError.NotFound;
        if (graceSeconds is < 0 or > MaxGraceSeconds) return KeygateError.Invalid("graceSeconds", "graceSeconds must be 0 to 604800.");
        var now = clock.Now();
        if (!old.IsLive(now)) return KeygateError.TokenNotLive;
        var token = ProviderTokens.Generate(old.ServiceProviderId is null ? ProviderTokens.OperatorPrefix : ProviderTokens.ServiceProviderPrefix);
        var fresh = ProviderTokens.Row(token, old.ServiceProviderId, old.Name, now, old.ExpiresAtMs);
        old.ExpiresAtMs = Math.Min(old.ExpiresAtMs ?? long.MaxValue, now + graceSeconds * 1000L);
        await using var tx = await db.Database.BeginTransactionAsync();
        db.ProviderTokens.Add(fresh);
        await db.SaveChangesAsync();
        db.AuditEvents.Add(Audit(actor, "token.rotate", now, old, $"new={fresh.Id} graceSeconds={graceSeconds}"));
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return new NewToken(fresh, token);
    }

    /// <summary>Revokes at once; revoking a revoked token is a no-op, and the last operator token that works is kept (LAST_OPERATOR_TOKEN).</summary>
    public async Task<KeygateError?> RevokeAsync(Actor actor, long id)
    {
        if (await Visible(actor).FirstOrDefaultAsync(t => t.Id == id) is not { } token) return KeygateError.NotFound;
        if (token.RevokedAtMs is not null) return null;
        var now = clock.Now();
        // Serializable, so two revocations racing each other cannot both leave the other as "the one that remains".
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.Serializable);
                token.RevokedAtMs = now;
                db.AuditEvents.Add(Audit(actor, "token.revoke", now, token));
                await db.SaveChangesAsync();
                if (token.ServiceProviderId is null && !await db.ProviderTokens.AnyAsync(t =>
                        t.ServiceProviderId == null && t.RevokedAtMs == null && (t.ExpiresAtMs == null || t.ExpiresAtMs > now)))
                {
                    await tx.RollbackAsync();
                    db.ChangeTracker.Clear();
                    return KeygateError.LastOperatorToken;
                }
                await tx.CommitAsync();
                return null;
            }
            catch (Exception e) when (attempt < 4 && Db.IsSerializationFailure(e))
            {
                db.ChangeTracker.Clear();
                if (await Visible(actor).FirstOrDefaultAsync(t => t.Id == id) is not { } again) return KeygateError.NotFound;
                token = again;
                if (token.RevokedAtMs is not null) return null;
            }
        }
    }

    private static AuditEvent Audit(Actor actor, string action, long now, ProviderToken t, string detail = "")
    {
        var e = AuditLog.Event(actor, null, action, null, AuditLog.Success, now, $"token={t.Id} prefix={t.Prefix} {detail}".TrimEnd());
        e.ServiceProviderId = t.ServiceProviderId;
        return e;
    }
}
