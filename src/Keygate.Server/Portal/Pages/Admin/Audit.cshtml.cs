using Keygate.Audit;
using Keygate.Data;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.Portal.Pages;

/// <summary>The org's own audit log, oldest first, paged like the provider API's.</summary>
public sealed class AdminAuditModel(AppDbContext db, OrgStateCache orgs) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public AuditListing? Listing { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? after, string? limit)
    {
        var me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return NotFound();
        Org = org;
        var (page, error) = await AuditPages.ReadAsync(db, org.OrgId, after, limit);
        if (error is not null)
        {
            Response.StatusCode = error.Status;
            Error = error.Message;
        }
        else
        {
            Listing = new AuditListing(page!, "/admin/audit", string.IsNullOrEmpty(after), limit);
        }
        return Page();
    }
}
