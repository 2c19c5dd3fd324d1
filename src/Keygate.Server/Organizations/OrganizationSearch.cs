using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Organizations;

public static class OrganizationSearch
{
    /// <summary>The orgs the actor may see, by name (case-insensitive, part of it), at most 1000; shared with the console.</summary>
    public static async Task<List<OrgSnapshot>> SearchAsync(AppDbContext db, OrgStateCache orgs, Actor actor, string? search)
    {
        var query = db.Organizations.AsNoTracking();
        if (actor.Kind != ActorKind.Operator) query = query.Where(o => o.ServiceProviderId == actor.ServiceProviderId);
        // No name holds a control character (Names), and PostgreSQL refuses U+0000 in a query: such a search finds nothing.
        if (search is not null && search.Any(char.IsControl)) return [];
        if (!string.IsNullOrWhiteSpace(search))
        {
            var s = search.Trim().ToUpperInvariant();
            query = query.Where(o => o.Name.ToUpper().Contains(s));
        }
        var ids = await query.OrderBy(o => o.Id).Select(o => o.Id).Take(1000).ToListAsync();
        var found = new List<OrgSnapshot>(ids.Count);
        foreach (var id in ids)
            if (await orgs.GetAsync(id) is { } o) found.Add(o);
        return found;
    }
}
