using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using System.Text.Json;

namespace Keygate.LegacyApi;

public sealed record LoginResponse(string AuthType, bool ObfuscateApiKey, long PasswordExpiryTime, long PasswordExpiryDays)
{
    /// <summary>
    /// The login body (contract A2/A8): when the admin's password expires (epoch ms) and the whole days left, or -1/-1
    /// when the org's passwords never expire.
    /// </summary>
    public static LoginResponse For(AdminSnapshot admin, OrgSnapshot org, long nowMs) =>
        admin.PasswordExpiresAtMs(org.PasswordExpiryDays) is { } at
            ? new("ADMIN_LOGIN", true, at, Math.Max(0, (at - nowMs) / 86_400_000))
            : new("ADMIN_LOGIN", true, -1, -1);
}

/// <summary>Legacy login and logout (contract A2). The checks run in the contract's order; the first that fails answers.</summary>
public static class LegacyAuthApi
{
    private static readonly TimeSpan TimestampWindow = TimeSpan.FromHours(2);

    public static void MapLegacyAuth(this RouteGroupBuilder legacy)
    {
        legacy.MapPost("/api/v1/auth", Login).WithName("LegacyLogin").WithSummary("Log in with the obfuscated key; sets the JSESSIONID cookie")
            .LegacyLoginDocs();
        legacy.MapGet("/api/v1/auth", (LegacyCaller caller, TimeProvider clock) => TypedResults.Ok(LoginResponse.For(caller.Admin, caller.Org, clock.Now()))).AddEndpointFilterFactory(LegacySessionFilter.Factory)
            .WithName("LegacySession").WithSummary("Check that the session works").OnLegacySession();
        legacy.MapDelete("/api/v1/auth", Logout).AddEndpointFilter<NoFieldsBodyFilter>().WithName("LegacyLogout").WithSummary("Log out (always 204)").LegacyLogoutDocs();
        legacy.MapDelete("/auth", Logout).AddEndpointFilter<NoFieldsBodyFilter>() // one public SDK drops the /api/v1 prefix
            .WithName("LegacyLogoutShort").WithSummary("Log out, the path one public SDK uses (always 204)").LegacyLogoutDocs();
    }

    private sealed record LoginInput(string ApiKey, string Username, string Password, string Timestamp);

    public static async Task<Results<Ok<LoginResponse>, JsonHttpResult<LegacyError>>> Login(
        HttpContext http, AppDbContext db, Passwords passwords, LoginThrottle throttle, OrgStateCache orgs,
        SessionStore sessions, AuditWriter auditWriter, KeygateMetrics metrics, TimeProvider clock)
    {
        using var span = KeygateTrace.Source.StartActivity("keygate.login");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = await LoginCoreAsync(http, db, passwords, throttle, orgs, sessions, auditWriter, clock);
        var tag = KeygateMetrics.Tag("outcome", outcome.Result is JsonHttpResult<LegacyError> e ? e.Value!.Code : "SUCCESS");
        metrics.Logins.Add(1, tag);
        metrics.LoginDuration.Record(KeygateMetrics.SecondsSince(started), tag);
        span?.SetTag("keygate.outcome", tag.Value);
        return outcome;
    }

    private static async Task<Results<Ok<LoginResponse>, JsonHttpResult<LegacyError>>> LoginCoreAsync(
        HttpContext http, AppDbContext db, Passwords passwords, LoginThrottle throttle, OrgStateCache orgs,
        SessionStore sessions, AuditWriter auditWriter, TimeProvider clock)
    {
        // 1. A JSON object with the four fields, of the right types.
        var doc = await JsonBody.ReadObjectAsync(http.Request);
        if (doc.Error is { } bodyError) return ErrorResponses.Legacy(bodyError);
        using var json = doc.Value;
        if (Parse(json) is not { } input)
            return ErrorResponses.Legacy(KeygateError.Invalid("apiKey, username, password (strings) and timestamp (string or number of milliseconds) are required."));

        var address = ClientAddress.Of(http);
        var now = clock.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var unknownActor = new Actor(ActorKind.OrgAdmin, 0, Truncate(input.Username), address);

        // 2. Throttled? The attempt counts as a failure until the credentials prove right.
        await using var attempt = await throttle.BeginAsync(input.Username, address);
        if (attempt.Busy) return ErrorResponses.Legacy(Passwords.Busy, http);
        if (attempt.RetryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = wait.ToString();
            auditWriter.Enqueue(AuditLog.Event(unknownActor, null, "session.login", null, "TOO_MANY_FAILED_LOGINS", nowMs));
            return ErrorResponses.Legacy(429, "TOO_MANY_FAILED_LOGINS", "Too many failed logins; try again later.");
        }

        // 3. Username and password. Unknown users are hashed too, so both failures cost the same; a disabled admin is
        // answered like an unknown one (contract A8).
        var normalized = Account.Normalize(input.Username);
        var account = await db.Accounts.AsNoTracking()
            .FirstOrDefaultAsync(a => a.NormalizedUsername == normalized && a.Kind == AccountKind.OrgAdmin && !a.Disabled);
        var verified = await passwords.TryVerifyAsync(account, input.Password, http.RequestAborted);
        if (verified is null) return ErrorResponses.Legacy(Passwords.Busy, http);
        if (verified == false)
        {
            attempt.Fail();
            auditWriter.Enqueue(AuditLog.Event(unknownActor, account?.OrganizationId, "session.login", null, "INVALID_USERNAME_OR_PASSWORD", nowMs));
            return ErrorResponses.Legacy(400, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password.");
        }
        var org = await orgs.GetAsync(account!.OrganizationId!.Value, http.RequestAborted);
        var admin = org?.ActiveAdmin(account.Id);
        var actor = account.AsActor(address, admin?.Rights ?? AdminRights.Nothing);

        // 3b. An expired or provider-reset password (contract A8). Right after the password check: only someone who knows
        // the password learns that it expired, and they learn it whatever the state of the org's subscription and key, so
        // the answer always points at the one thing they can fix themselves (a new password, set in the portal). No
        // failure is counted: the password was right.
        if (admin is not null && org is not null && admin.PasswordExpired(org.PasswordExpiryDays, nowMs))
        {
            auditWriter.Enqueue(AuditLog.Event(actor, account.OrganizationId, "session.login", null, KeygateError.PasswordExpired.Code, nowMs));
            return ErrorResponses.Legacy(KeygateError.PasswordExpired);
        }

        // A suspended org refuses its admins once they proved who they are (contract B: after the credentials).
        if (org is not null && org.Suspended)
        {
            auditWriter.Enqueue(AuditLog.Event(actor, account.OrganizationId, "session.login", null, KeygateError.OrgSuspended.Code, nowMs));
            return ErrorResponses.Legacy(KeygateError.OrgSuspended);
        }

        // 4. An API subscription at all?
        if (org is null || admin is null || !org.SubscriptionEnabled)
        {
            auditWriter.Enqueue(AuditLog.Event(actor, account.OrganizationId, "session.login", null, "API_SUBSCRIPTION_REQUIRED", nowMs));
            return ErrorResponses.Legacy(KeygateError.SubscriptionRequired);
        }

        // 5. The obfuscated key, recomputed from the current Cloud Service key and the client's timestamp.
        var key = org.Cloud;
        var inWindow = long.TryParse(input.Timestamp, out var ts) && Math.Abs(ts - nowMs) <= (long)TimestampWindow.TotalMilliseconds;
        if (key is null || !KeyValues.ObfuscatedMatches(key.Value, input.Timestamp, input.ApiKey) || !inWindow)
        {
            attempt.Fail();
            auditWriter.Enqueue(AuditLog.Event(actor, account.OrganizationId, "session.login", key?.Id, "AUTHENTICATION_FAILED", nowMs));
            return ErrorResponses.Legacy(400, "AUTHENTICATION_FAILED", "Authentication failed.");
        }

        // 6. Usable now?
        if (org.RefusalOf(key, nowMs) is { } refusal)
        {
            auditWriter.Enqueue(AuditLog.Event(actor, account.OrganizationId, "session.login", key.Id, refusal.Code, nowMs));
            return ErrorResponses.Legacy(refusal);
        }

        var id = await sessions.OpenAsync(db, account, org, key, address,
            AuditLog.Event(actor, org.OrgId, "session.login", key.Id, AuditLog.Success, nowMs), nowMs);
        // Clients read the id with the regex JSESSIONID=(.*?); so this must be the first Set-Cookie.
        var secure = Https.SecureCookie(http) ? "; Secure" : "";
        http.Response.Headers.Append("Set-Cookie", $"JSESSIONID={id}; Path=/; HttpOnly; SameSite=Strict{secure}");
        return TypedResults.Ok(LoginResponse.For(admin, org, nowMs));
    }

    private static LoginInput? Parse(JsonDocument? json)
    {
        // JsonBody checked the whole document, so reading any string of it is safe.
        if (json?.RootElement is not { } root) return null;
        string? Str(string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var timestamp = root.TryGetProperty("timestamp", out var t) ? t.ValueKind switch
        {
            JsonValueKind.String => t.GetString(),
            JsonValueKind.Number => t.GetRawText(),
            _ => null,
        } : null;
        var (apiKey, username, password) = (Str("apiKey"), Str("username"), Str("password"));
        if (apiKey is null || username is null || password is null || timestamp is null) return null;
        if (timestamp.Length is < 6 or > 19 || !timestamp.All(char.IsAsciiDigit) || !long.TryParse(timestamp, out _)) return null;
        if (username.Length > 256 || password.Length > 1024 || apiKey.Length > 64) return null;
        return new LoginInput(apiKey, username, password, timestamp);
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64];

    /// <summary>Always 204: logging out twice, or with no session, is not an error.</summary>
    private static async Task<NoContent> Logout(HttpContext http, SessionStore sessions, TimeProvider clock)
    {
        if (SessionGate.SessionId(http.Request) is { } id && await sessions.FindAsync(id, http.RequestAborted) is { } s)
        {
            var actor = new Actor(ActorKind.OrgAdmin, s.AccountId, s.Username, ClientAddress.Of(http));
            await sessions.EndAsync(s, AuditLog.Event(actor, s.OrganizationId, "session.logout", s.KeyId, AuditLog.Success,
                clock.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        var secure = Https.SecureCookie(http) ? "; Secure" : "";
        http.Response.Headers.Append("Set-Cookie", $"JSESSIONID=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
        return TypedResults.NoContent();
    }
}

/// <summary>
/// Requires a working legacy session; answers {code,message} otherwise. One instance per endpoint, made when the
/// endpoint is built (<see cref="Factory"/>), not one per call as AddEndpointFilter&lt;T&gt; would: every legacy call passes here.
/// </summary>
public sealed class LegacySessionFilter(SessionGate gate, EndpointFilterDelegate next)
{
    public static readonly Func<EndpointFilterFactoryContext, EndpointFilterDelegate, EndpointFilterDelegate> Factory =
        (route, next) => new LegacySessionFilter(route.ApplicationServices.GetRequiredService<SessionGate>(), next).InvokeAsync;

    private async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx)
    {
        var http = ctx.HttpContext;
        var caller = http.RequestServices.GetRequiredService<LegacyCaller>();
        var refusal = await gate.CheckAsync(http, caller);
        caller.Rate.WriteTo(http.Response);
        return refusal is not null ? ErrorResponses.Legacy(refusal, http) : await next(ctx);
    }
}

/// <summary>
/// Cross-site protection on every legacy route, the sandbox's included (contract A2): no CORS, and nothing a
/// browser sends from another origin or a sibling subdomain. The rule is <see cref="CrossSite"/>'s. Stateless, so
/// one instance serves every call.
/// </summary>
public sealed class CrossSiteFilter : IEndpointFilter
{
    public static readonly CrossSiteFilter Instance = new();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        CrossSite.OriginRefusal(ctx.HttpContext.Request) is { } refusal ? ErrorResponses.Legacy(refusal) : await next(ctx);
}

/// <summary>
/// The legacy JSON routes take application/json or no body at all (contract A2), which keeps browsers' form
/// posts out even when their body is empty. The sandbox route takes any content type and so is mapped without it.
/// </summary>
public sealed class LegacyRequestFilter : IEndpointFilter
{
    public static readonly LegacyRequestFilter Instance = new();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        CrossSite.ContentTypeRefusal(ctx.HttpContext.Request) is { } refusal ? ErrorResponses.Legacy(refusal) : await next(ctx);
}

/// <summary>
/// Routes that take no fields still read a body when one is sent: a malformed one is a 400 (as on the routes with
/// fields) rather than a change made anyway. Any JSON object passes; its fields are ignored (compatibility, A2).
/// Mapped on the route, so it runs after the session check and the rate limit, like the body checks of the others.
/// </summary>
public sealed class NoFieldsBodyFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var body = await JsonBody.ReadObjectAsync(ctx.HttpContext.Request);
        if (body.Error is { } e) return ErrorResponses.Legacy(e);
        body.Value?.Dispose();
        return await next(ctx);
    }
}
