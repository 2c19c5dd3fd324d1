using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Audit;

public sealed record AuditItem(long Id, long Time, string Actor, string Action, long? KeyId, string Outcome, string ClientAddress, string Detail)
{
    public static AuditItem From(AuditEvent e) => new(e.Id, e.TimeMs / 1000, e.Actor, e.Action, e.KeyId, e.Outcome, e.ClientAddress, e.Detail);
}

public sealed record AuditPage(AuditItem[] Items, string? Next);

/// <summary>The org's audit log in pages, shared by the provider API and the portal.</summary>
public static class AuditPages
{
    /// <summary>Shared by the provider API and the portal's audit page.</summary>
    public static async Task<(AuditPage? Page, KeygateError? Error)> ReadAsync(AppDbContext db, long orgId, string? after, string? limit)
    {
        var n = 50;
        if (limit is not null && (!int.TryParse(limit, out n) || n is < 1 or > 100))
            return (null, KeygateError.Invalid("limit", "limit must be 1 to 100."));
        long cursor = 0;
        if (!string.IsNullOrEmpty(after) && (!long.TryParse(after, out cursor) || cursor < 0))
            return (null, KeygateError.Invalid("after", "after must be a cursor returned by a previous page."));
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.OrganizationId == orgId && e.Id > cursor)
            .OrderBy(e => e.Id).Take(n + 1).ToListAsync();
        var more = rows.Count > n;
        var items = rows.Take(n).Select(AuditItem.From).ToArray();
        return (new AuditPage(items, more ? items[^1].Id.ToString() : null), null);
    }
}
