using Keygate.Keys;
using Keygate.Metering;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.Portal.Pages;

/// <summary>The org's API calls against its threshold and rate limits.</summary>
public sealed class UsageModel(OrgStateCache orgs, IUsageCounter usage, UsageHistory history, TimeProvider clock) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public UsageView Usage { get; private set; } = null!;
    public UsageChart Chart { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync()
    {
        var me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return NotFound();
        Org = org;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Usage = await usage.ReadAsync(org.OrgId, org.Limits, now);
        Chart = await UsageChart.ReadAsync(history, org.OrgId, Usage, Meter.WarnAt(org.Limits), now, HttpContext.RequestAborted);
        return Page();
    }
}
