using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Audit;

public sealed record AuditItem(long Id, long Time, string Actor, string Action, long? KeyId, string Outcome, string ClientAddress, string Detail)
{
    public static AuditItem From(AuditEvent e) => new(e.Id, e.TimeMs / 1000, e.Actor, e.Action, e.KeyId, e.Outcome, e.ClientAddress, e.Detail);
}

public sealed record AuditPage(AuditItem[] Items, string? Next);

/// <summary>The org's audit log in pages, oldest first: the provider API's order (contract).</summary>
public static class AuditPages
{
    public static async Task<(AuditPage? Page, KeygateError? Error)> ReadAsync(AppDbContext db, long orgId, string? after, string? limit)
    {
        if (ParseLimit(limit) is not { } n) return (null, BadLimit);
        if (ParseCursor(after) is not { } cursor) return (null, KeygateError.Invalid("after", "after must be a cursor returned by a previous page."));
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.OrganizationId == orgId && e.Id > cursor)
            .OrderBy(e => e.Id).Take(n + 1).ToListAsync();
        return (PageOf(rows, n), null);
    }

    internal static readonly KeygateError BadLimit = KeygateError.Invalid("limit", "limit must be 1 to 100.");

    /// <summary>1 to 100, 50 when absent; null when out of range or not a number.</summary>
    internal static int? ParseLimit(string? limit) =>
        limit is null ? 50 : int.TryParse(limit, out var n) && n is >= 1 and <= 100 ? n : null;

    /// <summary>An event id from a previous page, 0 when absent; null when not one.</summary>
    internal static long? ParseCursor(string? cursor) =>
        string.IsNullOrEmpty(cursor) ? 0 : long.TryParse(cursor, out var c) && c >= 0 ? c : null;

    /// <summary>The first <paramref name="n"/> of n + 1 rows read, and the cursor after them when there were more.</summary>
    internal static AuditPage PageOf(List<AuditEvent> rows, int n)
    {
        var items = rows.Take(n).Select(AuditItem.From).ToArray();
        return new AuditPage(items, rows.Count > n ? items[^1].Id.ToString() : null);
    }
}
