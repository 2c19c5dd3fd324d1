using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Keygate.Portal.Pages;

/// <summary>An organization's audit log in the provider console, paged like the provider API.</summary>
public sealed class ConsoleAuditModel(AppDbContext db, OrgStateCache orgs, IOptions<KeygateOptions> options) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public AuditListing? Listing { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(long orgId, string? after, string? limit)
    {
        var me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        if (await orgs.GetAsync(orgId, HttpContext.RequestAborted) is not { } org || !me.CanSee(org.OrgId, org.ServiceProviderId)) return NotFound();
        Org = org;
        var (page, error) = await AuditPages.ReadAsync(db, org.OrgId, after, limit);
        if (error is not null)
        {
            Response.StatusCode = error.Status;
            Error = error.Message;
        }
        else
        {
            Listing = new AuditListing(page!, $"/console/organizations/{org.OrgId}/audit", string.IsNullOrEmpty(after), limit);
        }
        return Page();
    }
}
