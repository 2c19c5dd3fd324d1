using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Keygate.Portal.Pages;

/// <summary>An organization's audit log in the provider console, newest first, filtered and paged.</summary>
public sealed class ConsoleAuditModel(AppDbContext db, OrgStateCache orgs, IOptions<KeygateOptions> options) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public AuditListing Listing { get; private set; } = null!;
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(long orgId, string? before, string? limit, string? action, string? outcome, string? who, string? from, string? to)
    {
        var me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        if (await orgs.GetAsync(orgId, HttpContext.RequestAborted) is not { } org || !me.CanSee(org.OrgId, org.ServiceProviderId)) return NotFound();
        Org = org;
        var (listing, error) = await AuditListing.ReadAsync(db, org.OrgId, $"/console/organizations/{org.OrgId}/audit",
            new AuditFilter(action, outcome, who, from, to), before, limit);
        (Listing, Error) = (listing, error?.Message);
        if (error is not null) Response.StatusCode = error.Status;
        return Page();
    }
}
