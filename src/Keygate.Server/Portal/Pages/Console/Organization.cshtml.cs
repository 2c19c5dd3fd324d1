using Keygate.Accounts;
using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Keygate.Organizations;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using System.Globalization;

namespace Keygate.Portal.Pages;

/// <summary>
/// One organization in the provider console, by task: subscription, keys (disable/enable), limits, usage
/// and the newest audit events. Staff act as their service provider or the operator, and every change goes
/// through <see cref="KeyLifecycle"/>; another provider's organization is the same 404 as a missing one.
/// A disable, and a subscription change that would refuse a key in use, are confirmed first, as on the key page.
/// </summary>
public sealed partial class OrganizationModel(OrgStateCache orgs, KeyLifecycle lifecycle, IUsageCounter usage, UsageHistory history, GatewayCounts gateway, TimeProvider clock,
    IOptions<KeygateOptions> options, RequestValidator validator, AppDbContext db, AdminDirectory admins) : PageModel
{
    public const int RecentEvents = 5;

    /// <summary>A subscription change waiting for its confirmation, as it was posted.</summary>
    public sealed record PendingSubscription(bool Enabled, string? ExpiresAt);

    public OrgSnapshot Org { get; private set; } = null!;
    public Actor Me { get; private set; } = null!;
    public long NowMs { get; private set; }
    public UsageView Usage { get; private set; } = null!;
    public UsageChart Chart { get; private set; } = null!;
    public KeygateError? Error { get; private set; }
    public AuditListing Recent { get; private set; } = null!;
    public PendingSubscription? Pending { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    [BindProperty] public LimitsForm Limits { get; set; } = new();
    /// <summary>"disable" with <see cref="ConfirmKey"/>: the disable confirmation to show.</summary>
    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? ConfirmKey { get; set; }
    /// <summary>The control a cancelled confirmation hands the focus back to, e.g. "disable-5".</summary>
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }

    /// <summary>The key whose disable is being confirmed, if it can still be disabled.</summary>
    public KeySnapshot? Disabling => Confirm == "disable" && ConfirmKey is { } id && Org.Find(id) is { DisabledReason: null } k ? k : null;

    /// <summary>True on the control named by <see cref="Focus"/> (rendered as autofocus) when no dialog is open.</summary>
    public bool? Refocus(string id) => Focus == id && Disabling is null && Pending is null && !LifecycleDialogOpen ? true : null;

    public async Task<IActionResult> OnGetAsync(long orgId)
    {
        if (!await LoadAsync(orgId)) return NotFound();
        Limits = LimitsForm.From(Org.Limits);
        return Page();
    }

    public async Task<IActionResult> OnPostSubscriptionAsync(long orgId, bool enabled, string? expiresAt, bool confirmed)
    {
        if (!confirmed)
        {
            if (!await LoadAsync(orgId)) return NotFound();
            if (FormTime.TryParse(expiresAt, out var at) && WouldRefuseAKey(enabled, at))
            {
                Limits = LimitsForm.From(Org.Limits);
                Pending = new PendingSubscription(enabled, expiresAt);
                return Page();
            }
        }
        return await ChangeAsync(orgId, "subscription", async () =>
        {
            if (!FormTime.TryParse(expiresAt, out var at))
                return KeygateError.Invalid("expiresAt", "Enter the expiry as a date and time (UTC), or leave it empty for none.");
            var request = new SubscriptionRequest(enabled, at);
            return await validator.ValidateAsync(request) ?? (await lifecycle.SetSubscriptionAsync(Me, Org.OrgId, request.Enabled, request.ExpiresAt)).Error;
        });
    }

    /// <summary>Whether the new subscription would refuse a key that is accepted now (the same rule as every surface).</summary>
    private bool WouldRefuseAKey(bool enabled, long? at)
    {
        var after = Org with { SubscriptionEnabled = enabled, ExpiresAt = at };
        return new[] { Org.Cloud, Org.Sandbox }.Any(k => k is not null && Org.RefusalOf(k, NowMs) is null && after.RefusalOf(k, NowMs) is not null);
    }

    /// <summary>Renewing adds a year to the later of now and the current expiry, and turns the subscription on.</summary>
    public Task<IActionResult> OnPostRenewAsync(long orgId) => ChangeAsync(orgId, "renewed", async () =>
    {
        var from = Math.Max(NowMs / 1000, Org.ExpiresAt ?? 0);
        return (await lifecycle.SetSubscriptionAsync(Me, Org.OrgId, true, from + 365 * 86_400)).Error;
    });

    public Task<IActionResult> OnPostDisableAsync(long orgId, long keyId, string? reason, string? note) => ChangeAsync(orgId, "disabled", async () =>
    {
        if (!Enum.TryParse<DisabledReason>(reason, out var r)) return KeygateError.Invalid("reason", "Choose a reason.");
        var request = new DisableRequest(r, string.IsNullOrWhiteSpace(note) ? null : note.Trim());
        return await validator.ValidateAsync(request) ?? (await lifecycle.DisableAsync(Me, Org.OrgId, keyId, request.Reason, request.Note)).Error;
    });

    public Task<IActionResult> OnPostEnableAsync(long orgId, long keyId) =>
        ChangeAsync(orgId, "enabled", async () => (await lifecycle.EnableAsync(Me, Org.OrgId, keyId)).Error);

    public Task<IActionResult> OnPostLimitsAsync(long orgId) => ChangeAsync(orgId, "limits", async () =>
    {
        if (!ModelState.IsValid) return KeygateError.Invalid("limits", "Every limit must be a whole number.");
        var request = Limits.ToRequest();
        return await validator.ValidateAsync(request) ?? (await lifecycle.SetLimitsAsync(Me, Org.OrgId, request.ApplyTo)).Error;
    });

    private async Task<IActionResult> ChangeAsync(long orgId, string done, Func<Task<KeygateError?>> change)
    {
        if (!await LoadAsync(orgId)) return NotFound();
        var posted = Limits;
        if (await change() is not { } e) return Redirect($"/console/organizations/{orgId}?done={done}");
        if (!await LoadAsync(orgId)) return NotFound();
        Limits = done == "limits" ? posted : LimitsForm.From(Org.Limits);
        Response.StatusCode = e.Status;
        Error = e;
        return Page();
    }

    private async Task<bool> LoadAsync(long orgId)
    {
        Me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        NowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (await orgs.GetAsync(orgId, HttpContext.RequestAborted) is not { } org || !Me.CanSee(org.OrgId, org.ServiceProviderId)) return false;
        Org = org;
        Usage = await usage.ReadAsync(org.OrgId, org.Limits, NowMs) with { Gateway = gateway.Read(org.OrgId, org.Limits) };
        Chart = await UsageChart.ReadAsync(history, org.OrgId, Usage, Meter.WarnAt(org.Limits), NowMs, HttpContext.RequestAborted);
        var (recent, _) = await AuditListing.ReadAsync(db, org.OrgId, $"/console/organizations/{org.OrgId}/audit",
            new AuditFilter(null, null, null, null, null), null, RecentEvents.ToString(CultureInfo.InvariantCulture));
        Recent = recent with { Compact = true, Page = recent.Page with { Next = null } };
        Admins = (await admins.ListAdminsAsync(Me, org.OrgId, null)).Value ?? [];
        return true;
    }

    public string? ExpiresInput => FormTime.Input(Org.ExpiresAt);

    public string? DoneText => Done switch
    {
        "subscription" => "The subscription was saved.",
        "renewed" => "The subscription was renewed for a year.",
        "disabled" => "The key was disabled. It is refused from now on.",
        "enabled" => "The key was enabled.",
        "limits" => "The limits were saved.",
        "suspended" => "The organization was suspended. Its API refuses every request (ORG_SUSPENDED) and its portal is read-only.",
        "resumed" => "The organization was resumed.",
        _ => null,
    };
}

/// <summary>The limits form; empty fields keep their value, like omitted parts of the provider API's body.</summary>
public sealed class LimitsForm
{
    public long? Calls { get; set; }
    public long? WindowSeconds { get; set; }
    public int? WarnAtPercent { get; set; }
    public int? LightPerSecond { get; set; }
    public int? LightPerHour { get; set; }
    public int? MediumPerSecond { get; set; }
    public int? MediumPerHour { get; set; }
    public int? HeavyPerMinute { get; set; }
    public int? HeavyPerHour { get; set; }
    public int? SandboxDailyQuota { get; set; }

    public static LimitsForm From(OrgLimits l) => new()
    {
        Calls = l.CallThreshold, WindowSeconds = l.ThresholdWindowSeconds, WarnAtPercent = l.WarnAtPercent,
        LightPerSecond = l.LightPerSecond, LightPerHour = l.LightPerHour, MediumPerSecond = l.MediumPerSecond,
        MediumPerHour = l.MediumPerHour, HeavyPerMinute = l.HeavyPerMinute, HeavyPerHour = l.HeavyPerHour,
        SandboxDailyQuota = l.SandboxDailyQuota,
    };

    public LimitsRequest ToRequest() => new(
        new ThresholdPatch(Calls, WindowSeconds, WarnAtPercent),
        new RatesPatch(new RatePatch(LightPerSecond, LightPerHour), new RatePatch(MediumPerSecond, MediumPerHour),
            new HeavyRatePatch(HeavyPerMinute, HeavyPerHour)),
        SandboxDailyQuota);
}
