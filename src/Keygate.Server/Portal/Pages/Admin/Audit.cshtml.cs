using Keygate.Audit;
using Keygate.Data;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.Portal.Pages;

/// <summary>The org's own audit log, newest first, filtered and paged (the provider API keeps its oldest-first order).</summary>
public sealed class AdminAuditModel(AppDbContext db, OrgStateCache orgs) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public AuditListing Listing { get; private set; } = null!;
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? before, string? limit, string? action, string? outcome, string? who, string? from, string? to)
    {
        var me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return NotFound();
        Org = org;
        var (listing, error) = await AuditListing.ReadAsync(db, org.OrgId, "/admin/audit", new AuditFilter(action, outcome, who, from, to), before, limit);
        (Listing, Error) = (listing, error?.Message);
        if (error is not null) Response.StatusCode = error.Status;
        return Page();
    }
}
