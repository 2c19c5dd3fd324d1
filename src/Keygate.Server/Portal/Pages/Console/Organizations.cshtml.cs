using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Organizations;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Keygate.Portal.Pages;

/// <summary>The provider console's start: the organizations this staff member may manage, by name and status.</summary>
public sealed class OrganizationsModel(AppDbContext db, OrgStateCache orgs, TimeProvider clock, IOptions<KeygateOptions> options) : PageModel
{
    public static readonly (string Value, string Label)[] Statuses =
        [("", "Any status"), ("ENABLED", "Key enabled"), ("DISABLED", "Key disabled"), ("SUBSCRIPTION_EXPIRED", "Subscription expired"), ("NONE", "No subscription")];

    public string? Q { get; private set; }
    public string? Status { get; private set; }
    /// <summary>"deleted" after an org's deletion, which comes back here.</summary>
    [Microsoft.AspNetCore.Mvc.BindProperty(SupportsGet = true)] public string? Done { get; set; }
    public long NowMs { get; private set; }
    public IReadOnlyList<OrgSnapshot> Found { get; private set; } = [];

    public async Task OnGetAsync(string? q, string? status)
    {
        (Q, Status, NowMs) = (q, status, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        var all = await OrganizationSearch.SearchAsync(db, orgs, me, q);
        Found = string.IsNullOrEmpty(status) ? all : all.Where(o => StatusOf(o, NowMs) == status).ToList();
    }

    /// <summary>One word for the list: no subscription, or the Cloud Service key's status (no key counts as its subscription's).</summary>
    public static string StatusOf(OrgSnapshot o, long nowMs) =>
        !o.SubscriptionEnabled ? "NONE"
        : o.Cloud is { } k ? o.StatusOf(k, nowMs).ToString()
        : o.IsExpired(nowMs) ? "SUBSCRIPTION_EXPIRED" : "ENABLED";

    /// <summary>The list's badge colour: key enabled green, disabled red, expired amber; no key or no subscription grey.</summary>
    public static string BadgeOf(OrgSnapshot o, long nowMs) => o.Cloud is null ? "" : StatusOf(o, nowMs) switch
    {
        "ENABLED" => "ok",
        "DISABLED" => "err",
        "SUBSCRIPTION_EXPIRED" => "warn",
        _ => "",
    };

    public static string SubscriptionText(OrgSnapshot o, long nowMs) =>
        !o.SubscriptionEnabled ? "None"
        : o.ExpiresAt is not { } at ? "Active, no expiry"
        : o.IsExpired(nowMs) ? $"Expired {AuditListing.Time(at)}"
        : $"Active until {AuditListing.Time(at)}";

    public static string KeyText(OrgSnapshot o, long nowMs) => o.Cloud is { } k ? KeyText(o, k, nowMs) : "No key";

    public static string KeyText(OrgSnapshot o, KeySnapshot k, long nowMs) => o.StatusOf(k, nowMs) switch
    {
        KeyStatus.ENABLED => "Enabled",
        KeyStatus.DISABLED => $"Disabled ({k.DisabledReason}) by {k.DisabledBy switch
        {
            DisablerKind.Operator => "the operator",
            DisablerKind.ServiceProvider => "the service provider",
            _ => "Keygate",
        }}",
        _ => o.SubscriptionEnabled ? "Subscription expired" : "No subscription",
    };
}
