using Keygate.Accounts;
using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using System.ComponentModel.DataAnnotations;
using System.Data;

namespace Keygate.ProviderApi;

/// <summary>POST /tokens. expiresAt is epoch seconds up to 9999-12-31 (and must be in the future), or null for never.</summary>
public sealed record CreateTokenRequest([property: Required, Name] string Name,
    [property: Range(0, 253402300799, ErrorMessage = "expiresAt must be epoch seconds or null.")] long? ExpiresAt = null,
    long? ServiceProviderId = null);

/// <summary>POST /tokens/{id}/rotate: how long the old token keeps working, up to a week (default a day).</summary>
public sealed record RotateTokenRequest(
    [property: Range(0, 604800, ErrorMessage = "graceSeconds must be 0 to 604800.")] int? GraceSeconds = null);

/// <summary>A token as listed: never its value. Times are epoch seconds.</summary>
public sealed record TokenView(long Id, string Name, string Prefix, long? ServiceProviderId, long CreatedAt, long? ExpiresAt, long? LastUsedAt, long? RevokedAt)
{
    public static TokenView From(ProviderToken t) => new(t.Id, t.Name, t.Prefix, t.ServiceProviderId, t.CreatedAtMs / 1000,
        t.ExpiresAtMs / 1000, t.LastUsedAtMs / 1000, t.RevokedAtMs / 1000);
}

/// <summary>A new token: the view plus the token itself, shown this once.</summary>
public sealed record TokenCreated(long Id, string Name, string Prefix, long? ServiceProviderId, long CreatedAt, long? ExpiresAt, long? LastUsedAt,
    long? RevokedAt, string Token)
{
    public static TokenCreated From(ProviderToken t, string token)
    {
        var v = TokenView.From(t);
        return new(v.Id, v.Name, v.Prefix, v.ServiceProviderId, v.CreatedAt, v.ExpiresAt, v.LastUsedAt, v.RevokedAt, token);
    }
}

/// <summary>
/// Provider API tokens over time (contract B): list, create with an expiry, rotate with a grace period, revoke. The
/// operator manages every token, a service provider only its own (another's is 404). Authentication reads the token
/// row on every call (<see cref="ProviderAuthentication"/>), so a revocation is refused by every node at the next request.
/// </summary>
public static class ProviderTokensApi
{
    private const int DefaultGraceSeconds = 86_400;
    private const int MaxGraceSeconds = 604_800;

    public static void MapProviderTokens(this RouteGroupBuilder api)
    {
        api.MapGet("/tokens", List).WithName("ListTokens").WithSummary("List the provider API tokens the caller may manage (never their values)");
        api.MapPost("/tokens", Create).WithName("CreateToken").WithSummary("Create a provider API token, shown once")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapPost("/tokens/{id}/rotate", Rotate).WithName("RotateToken")
            .WithSummary("Replace a token by a new one, shown once; the old one works until the grace period ends")
            .DocumentsBody<RotateTokenRequest, RouteHandlerBuilder>("application/json", optional: true)
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapDelete("/tokens/{id}", Revoke).WithName("RevokeToken").WithSummary("Revoke a token at once, on every node")
            .Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "LAST_OPERATOR_TOKEN");
    }

    private static async Task<Ok<TokenView[]>> List(ProviderCaller caller, AppDbContext db)
    {
        var rows = await Visible(db, caller).AsNoTracking().OrderBy(t => t.Id).ToListAsync();
        return TypedResults.Ok(rows.Select(TokenView.From).ToArray());
    }

    private static async Task<Results<Created<TokenCreated>, ProblemHttpResult>> Create(
        [FromBody] CreateTokenRequest req, ProviderCaller caller, AppDbContext db, TimeProvider clock)
    {
        var now = clock.Now();
        if (req.ExpiresAt is { } at && at * 1000 <= now) return ErrorResponses.Problem(KeygateError.Invalid("expiresAt", "expiresAt must be in the future."));
        var (spId, notOwned) = await ProviderApi.OwnerAsync(req.ServiceProviderId, caller, db);
        if (notOwned is not null) return notOwned;
        var token = ProviderTokens.Generate(spId is null ? ProviderTokens.OperatorPrefix : ProviderTokens.ServiceProviderPrefix);
        var row = ProviderTokens.Row(token, spId, req.Name.Trim(), now, req.ExpiresAt * 1000);
        db.ProviderTokens.Add(row);
        await db.SaveChangesAsync();
        db.AuditEvents.Add(Audit(caller, "token.create", now, row, $"expiresAt={req.ExpiresAt?.ToString() ?? "never"}"));
        await db.SaveChangesAsync();
        return TypedResults.Created($"/provider/v1/tokens/{row.Id}", TokenCreated.From(row, token));
    }

    private static async Task<Results<Created<TokenCreated>, ProblemHttpResult>> Rotate(
        string id, HttpContext http, ProviderCaller caller, AppDbContext db, TimeProvider clock)
    {
        if (await FindAsync(db, caller, id) is not { } old) return ProviderApi.NotFound;
        var grace = DefaultGraceSeconds;
        // The body is optional; when sent it is checked like any other of ours.
        if (JsonBody.HasBody(http.Request))
        {
            var body = await JsonBody.ReadAsync<RotateTokenRequest>(http.Request);
            if (body.Error is { } e) return ErrorResponses.Problem(e);
            grace = body.Value!.GraceSeconds ?? DefaultGraceSeconds;
            // Checked here: an optional body is read by hand, so the framework's validation does not see it.
            if (grace is < 0 or > MaxGraceSeconds) return ErrorResponses.Problem(KeygateError.Invalid("graceSeconds", "graceSeconds must be 0 to 604800."));
        }
        var now = clock.Now();
        if (!old.IsLive(now)) return ErrorResponses.Problem(KeygateError.TokenNotLive);
        var token = ProviderTokens.Generate(old.ServiceProviderId is null ? ProviderTokens.OperatorPrefix : ProviderTokens.ServiceProviderPrefix);
        // The new token inherits the old one's name and expiry; the old one ends with the grace period (or sooner, if it expires sooner).
        var fresh = ProviderTokens.Row(token, old.ServiceProviderId, old.Name, now, old.ExpiresAtMs);
        old.ExpiresAtMs = Math.Min(old.ExpiresAtMs ?? long.MaxValue, now + grace * 1000L);
        await using var tx = await db.Database.BeginTransactionAsync();
        db.ProviderTokens.Add(fresh);
        await db.SaveChangesAsync();
        db.AuditEvents.Add(Audit(caller, "token.rotate", now, old, $"new={fresh.Id} graceSeconds={grace}"));
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return TypedResults.Created($"/provider/v1/tokens/{fresh.Id}", TokenCreated.From(fresh, token));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(string id, ProviderCaller caller, AppDbContext db, TimeProvider clock)
    {
        if (await FindAsync(db, caller, id) is not { } token) return ProviderApi.NotFound;
        if (token.RevokedAtMs is not null) return TypedResults.NoContent();
        var now = clock.Now();
        // Serializable, so two revocations racing each other cannot both leave the other as "the one that remains".
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.Serializable);
                token.RevokedAtMs = now;
                db.AuditEvents.Add(Audit(caller, "token.revoke", now, token));
                await db.SaveChangesAsync();
                if (token.ServiceProviderId is null && !await db.ProviderTokens.AnyAsync(t =>
                        t.ServiceProviderId == null && t.RevokedAtMs == null && (t.ExpiresAtMs == null || t.ExpiresAtMs > now)))
                {
                    await tx.RollbackAsync();
                    db.ChangeTracker.Clear();
                    return ErrorResponses.Problem(KeygateError.LastOperatorToken);
                }
                await tx.CommitAsync();
                return TypedResults.NoContent();
            }
            catch (Exception e) when (attempt < 4 && Db.IsSerializationFailure(e))
            {
                db.ChangeTracker.Clear();
                if (await FindAsync(db, caller, id) is not { } again) return ProviderApi.NotFound;
                token = again;
                if (token.RevokedAtMs is not null) return TypedResults.NoContent();
            }
        }
    }

    private static IQueryable<ProviderToken> Visible(AppDbContext db, ProviderCaller caller) =>
        caller.IsOperator ? db.ProviderTokens : db.ProviderTokens.Where(t => t.ServiceProviderId == caller.Actor.ServiceProviderId);

    /// <summary>The token if the caller may manage it; another provider's is the same 404 as a missing one.</summary>
    private static async Task<ProviderToken?> FindAsync(AppDbContext db, ProviderCaller caller, string id) =>
        long.TryParse(id, out var n) ? await Visible(db, caller).FirstOrDefaultAsync(t => t.Id == n) : null;

    private static AuditEvent Audit(ProviderCaller caller, string action, long now, ProviderToken t, string detail = "")
    {
        var e = AuditLog.Event(caller.Actor, null, action, null, AuditLog.Success, now, $"token={t.Id} prefix={t.Prefix} {detail}".TrimEnd());
        e.ServiceProviderId = t.ServiceProviderId;
        return e;
    }
}
