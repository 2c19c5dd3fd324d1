using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Primitives;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;

namespace Keygate.Sessions;

/// <summary>The caller of a legacy request that passed the session check; filled once per request.</summary>
public sealed class LegacyCaller
{
    public SessionEntry Session { get; set; } = null!;
    public OrgSnapshot Org { get; set; } = null!;
    /// <summary>The session's admin as the org's snapshot has them now: a role change applies at the next request.</summary>
    public AdminSnapshot Admin { get; set; } = null!;
    /// <summary>The rate window the answer reports in X-RateLimit-* (contract A5); set once the call was metered, refused or not.</summary>
    public RateWindow Rate { get; set; }

    public Actor Actor(HttpContext http) =>
        new(ActorKind.OrgAdmin, Session.AccountId, Session.Username, ClientAddress.Of(http))
        {
            OrganizationId = Session.OrganizationId,
            Rights = Admin.Rights,
        };
}

/// <summary>
/// The hot path of every legacy call: is this session still good, and is its key still usable? It reads
/// only memory (the session store and the org snapshot), so it costs no database round trip, and it sees a
/// change as soon as the lifecycle has published it.
/// </summary>
public sealed class SessionGate(SessionStore sessions, OrgStateCache orgs, IUsageCounter usage, Threshold threshold, KeygateMetrics metrics, TimeProvider clock)
{

    public static string? SessionId(HttpRequest r)
    {
        if (PlainSessionCookie(r.Headers.Cookie) is { IsEmpty: false } plain) return plain.ToString();
        if (r.Cookies.TryGetValue("JSESSIONID", out var c) && !string.IsNullOrEmpty(c)) return c;
        var h = r.Headers["JSessionID"];
        return h.Count > 0 ? h[0] : null;
    }

    private const string CookiePrefix = "JSESSIONID=";

    // The cookie-octets of RFC 6265 without '%': a value of only these is the same string after the framework's parse.
    private static readonly SearchValues<char> PlainValue =
        SearchValues.Create("!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>
    /// The id from a Cookie header that is exactly <c>JSESSIONID=value</c>, as every SDK sends it, without building the
    /// request's cookie collection (a dictionary per call); empty for anything else (more cookies, quotes, escapes,
    /// another spelling), which the framework's parser then reads as before.
    /// </summary>
    private static ReadOnlySpan<char> PlainSessionCookie(StringValues header)
    {
        if (header.Count != 1 || header[0] is not { } value || value.Length <= CookiePrefix.Length
            || !value.StartsWith(CookiePrefix, StringComparison.Ordinal))
            return default;
        var id = value.AsSpan(CookiePrefix.Length);
        return id.ContainsAnyExcept(PlainValue) ? default : id;
    }

    /// <summary>
    /// The request's session, looked up by the id in place (no string of it) when the Cookie header is the plain one. A
    /// client sends the same header on every call of a keep-alive connection, so an HTTP/1.1 connection remembers the last one
    /// it sent and the session it named: hashing the id (SHA-256 through OpenSSL) was the largest step of the check.
    /// The header is matched in constant time, and the session is asked of the store again, so an ended one is not found.
    /// </summary>
    private ValueTask<SessionEntry?> FindSessionAsync(HttpContext http)
    {
        var header = http.Request.Headers.Cookie;
        var plain = PlainSessionCookie(header);
        if (plain.IsEmpty) return SessionId(http.Request) is { } id ? sessions.FindAsync(id, http.RequestAborted) : default;
        // HTTP/1.1 only: its calls on a connection come one after another, while HTTP/2 streams would share the items at once.
        var connection = HttpProtocol.IsHttp11(http.Request.Protocol) ? http.Features.Get<IConnectionItemsFeature>()?.Items : null;
        var sent = header[0]!;
        if (connection?.TryGetValue(typeof(ConnectionSession), out var held) == true && held is ConnectionSession last
            && (ReferenceEquals(last.Header, sent) || CryptographicOperations.FixedTimeEquals(
                MemoryMarshal.AsBytes(last.Header.AsSpan()), MemoryMarshal.AsBytes(sent.AsSpan())))
            && sessions.Current(last.Session) is { } known)
            return ValueTask.FromResult<SessionEntry?>(known);
        var found = sessions.FindAsync(plain, http.RequestAborted);
        if (connection is not null && found.IsCompletedSuccessfully && found.Result is { } entry)
            connection[typeof(ConnectionSession)] = new ConnectionSession(sent, entry);
        return found;
    }

    /// <summary>The Cookie header a connection sent last and the session it named (in the connection's items).</summary>
    private sealed record ConnectionSession(string Header, SessionEntry Session);

    public ValueTask<KeygateError?> CheckAsync(HttpContext http, LegacyCaller caller) =>
        CheckAsync(http, caller, MeterDecision.WeightOf(http.Request.Method));

    /// <summary>
    /// The check of a call that weighs <paramref name="weight"/> (a gateway route may name its own, contract A7). A
    /// refusal is counted and gets a span; an accepted call pays for neither (and a check that completes at once
    /// allocates nothing).
    /// </summary>
    public ValueTask<KeygateError?> CheckAsync(HttpContext http, LegacyCaller caller, MethodWeight weight)
    {
        var check = CheckCoreAsync(http, caller, weight);
        if (!check.IsCompletedSuccessfully) return RecordedAsync(check);
        if (check.Result is { } refusal) Refused(refusal);
        return check;
    }

    private async ValueTask<KeygateError?> RecordedAsync(ValueTask<KeygateError?> check)
    {
        var refusal = await check;
        if (refusal is not null) Refused(refusal);
        return refusal;
    }

    private void Refused(KeygateError refusal)
    {
        metrics.Refusals.Add(1, KeygateMetrics.Tag("code", refusal.Code));
        using var span = KeygateTrace.Source.StartActivity("keygate.session_gate.refusal");
        span?.SetTag("keygate.code", refusal.Code);
    }

    private async ValueTask<KeygateError?> CheckCoreAsync(HttpContext http, LegacyCaller caller, MethodWeight weight)
    {
        var session = await FindSessionAsync(http);
        if (session is null) return KeygateError.SessionNotValid;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // Past its lifetime the session is over whatever its activity (contract A2); the sweep removes it.
        if (sessions.IsPastMaxAge(session, now)) return KeygateError.SessionNotValid;
        // An idle session stays refused (refusals never touch it) until the sweep removes it: no database write
        // here, so the answer is the same while the database is unreachable. On a cluster another node may have
        // used it since, so the database's last-seen is asked first.
        if (sessions.IsIdle(session, now) && await sessions.IdleEverywhereAsync(session, now, http.RequestAborted)) return KeygateError.SessionNotValid;
        // On a cluster node the check that the snapshot is the org's newest rides with the count, in one Redis round
        // trip; a snapshot found old, and any refusal decided on an unchecked one, is decided again on a checked one.
        if (orgs.Unchecked(session.OrganizationId) is { } held
            && await DecideAsync(http, caller, session, held, weight, now, checkedVersion: false) is var answer && answer != Recheck)
            return answer;
        return await DecideAsync(http, caller, session, await orgs.GetAsync(session.OrganizationId, http.RequestAborted), weight, now, checkedVersion: true);
    }

    /// <summary>Never answered: what <see cref="DecideAsync"/> says when an unchecked snapshot cannot decide.</summary>
    private static readonly KeygateError Recheck = new(500, "RECHECK", "");

    private async ValueTask<KeygateError?> DecideAsync(HttpContext http, LegacyCaller caller, SessionEntry session, OrgSnapshot? org, MethodWeight weight, long now, bool checkedVersion)
    {
        var key = org?.Cloud;
        // The key the session was opened with is gone, or was changed while the org ends sessions on change.
        if (org is null || key is null || key.Id != session.KeyId || session.KeyVersion < key.SessionFloorVersion)
        {
            if (!checkedVersion) return Recheck;
            sessions.Forget(session);
            return KeygateError.SessionNotValid;
        }
        // The admin was deleted or disabled (contract A8): every session of theirs ends at its next request, on every node.
        if (org.ActiveAdmin(session.AccountId) is not { } admin)
        {
            if (!checkedVersion) return Recheck;
            sessions.Forget(session);
            return KeygateError.SessionNotValid;
        }
        // On a cluster: another node ended sessions of this org (a logout, "end all") since this one looked. The
        // database says so, whatever the snapshot's age.
        if (!await sessions.StillLiveAsync(session, org, http.RequestAborted)) return KeygateError.SessionNotValid;
        var refusal = org.RefusalOf(key, now);
        // Refused requests leave the session as it is: it works again after enable or renewal.
        if (refusal is not null) return checkedVersion ? refusal : Recheck;
        // Metering (contract A5): the call counts once it passed the session check and the rate limit.
        var decision = await usage.CountCallAsync(org.OrgId, weight, org.Limits, now, checkedVersion ? -1 : org.StateVersion);
        if (decision.Outcome == MeterOutcome.Stale) return Recheck;
        caller.Rate = decision.Rate;
        if (decision.Outcome == MeterOutcome.RateLimited) return decision.RateLimitError();
        if (decision.Outcome == MeterOutcome.ThresholdExceeded) return await threshold.ExceededAsync(org, key, decision);
        // Only an accepted request extends the session.
        session.Touch(now);
        caller.Session = session;
        caller.Org = org;
        caller.Admin = admin;
        if (decision.WarningCrossed) await threshold.WarnAsync(org, decision, now);
        return null;
    }
}
