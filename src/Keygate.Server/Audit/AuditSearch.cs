using System.Globalization;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Audit;

/// <summary>
/// What the portal's audit pages filter on: an action prefix ("key." finds every key change), success or
/// refusal, part of who acted, and a range of UTC days. Values are kept as typed so the form shows them again.
/// </summary>
public sealed record AuditFilter(string? Action, string? Outcome, string? Who, string? From, string? To)
{
    public const string Refused = "REFUSED";

    public bool IsEmpty => string.IsNullOrWhiteSpace(Action) && string.IsNullOrEmpty(Outcome) && string.IsNullOrWhiteSpace(Who)
        && string.IsNullOrEmpty(From) && string.IsNullOrEmpty(To);

    /// <summary>The filter as query parameters, empty ones left out.</summary>
    public IEnumerable<KeyValuePair<string, string>> Query() =>
        new[] { ("action", Action?.Trim()), ("outcome", Outcome), ("who", Who?.Trim()), ("from", From), ("to", To) }
            .Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => KeyValuePair.Create(p.Item1, p.Item2!));
}

/// <summary>The org's audit log for people reading it: newest first, filtered, paged by an older-than cursor.</summary>
public static class AuditSearch
{
    public static async Task<(AuditPage? Page, KeygateError? Error)> ReadNewestAsync(
        AppDbContext db, long orgId, AuditFilter filter, string? before, string? limit)
    {
        if (AuditPages.ParseLimit(limit) is not { } n) return (null, AuditPages.BadLimit);
        if (AuditPages.ParseCursor(before) is not { } cursor) return (null, KeygateError.Invalid("before", "before must be a cursor returned by a previous page."));
        if (Day(filter.From) is not { } from) return (null, KeygateError.Invalid("from", "Enter the first day as a date (YYYY-MM-DD), or leave it empty."));
        if (Day(filter.To) is not { } to) return (null, KeygateError.Invalid("to", "Enter the last day as a date (YYYY-MM-DD), or leave it empty."));
        if (filter.Outcome is { Length: > 0 } o && o != AuditLog.Success && o != AuditFilter.Refused)
            return (null, KeygateError.Invalid("outcome", "Choose an outcome from the list."));

        var q = db.AuditEvents.AsNoTracking().Where(e => e.OrganizationId == orgId);
        if (cursor > 0) q = q.Where(e => e.Id < cursor);
        if (filter.Action?.Trim() is { Length: > 0 } action) q = q.Where(e => e.Action.StartsWith(action));
        if (filter.Outcome == AuditLog.Success) q = q.Where(e => e.Outcome == AuditLog.Success);
        if (filter.Outcome == AuditFilter.Refused) q = q.Where(e => e.Outcome != AuditLog.Success);
        // Lower-cased on both sides: SQLite's and PostgreSQL's own comparisons differ in case.
        if (filter.Who?.Trim().ToLowerInvariant() is { Length: > 0 } who) q = q.Where(e => e.Actor.ToLower().Contains(who));
        if (from.Value is { } f) q = q.Where(e => e.TimeMs >= f);
        if (to.Value is { } t) q = q.Where(e => e.TimeMs < t + 86_400_000);
        var rows = await q.OrderByDescending(e => e.Id).Take(n + 1).ToListAsync();
        return (AuditPages.PageOf(rows, n), null);
    }

    /// <summary>A UTC day as the epoch milliseconds of its start; an empty one is no bound; null when not a date.</summary>
    private static Bound? Day(string? text) =>
        string.IsNullOrEmpty(text) ? new Bound(null)
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? new Bound(new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds())
            : null;

    private readonly record struct Bound(long? Value);
}
