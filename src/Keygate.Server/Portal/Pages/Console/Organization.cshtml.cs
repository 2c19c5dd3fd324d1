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
/// One organization in the provider console: subscription, key status with disable/enable, limits and
/// usage. Staff act as their service provider or the operator, and every change goes through
/// <see cref="KeyLifecycle"/>; another provider's organization is the same 404 as a missing one.
/// </summary>
public sealed class OrganizationModel(OrgStateCache orgs, KeyLifecycle lifecycle, IUsageCounter usage, GatewayCounts gateway, TimeProvider clock,
    IOptions<KeygateOptions> options, RequestValidator validator) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public Actor Me { get; private set; } = null!;
    public long NowMs { get; private set; }
    public UsageView Usage { get; private set; } = null!;
    public KeygateError? Error { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    [BindProperty] public LimitsForm Limits { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(long orgId)
    {
        if (!await LoadAsync(orgId)) return NotFound();
        Limits = LimitsForm.From(Org.Limits);
        return Page();
    }

    public Task<IActionResult> OnPostSubscriptionAsync(long orgId, bool enabled, string? expiresAt) => ChangeAsync(orgId, "subscription", async () =>
    {
        long? at = null;
        if (!string.IsNullOrWhiteSpace(expiresAt))
        {
            if (!DateTime.TryParseExact(expiresAt, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                return KeygateError.Invalid("expiresAt", "Enter the expiry as a date and time (UTC), or leave it empty for none.");
            at = new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeSeconds();
        }
        var request = new SubscriptionRequest(enabled, at);
        return await validator.ValidateAsync(request) ?? (await lifecycle.SetSubscriptionAsync(Me, Org.OrgId, request.Enabled, request.ExpiresAt)).Error;
    });

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
        return true;
    }

    public string? ExpiresInput => Org.ExpiresAt is { } at
        ? DateTimeOffset.FromUnixTimeSeconds(at).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) : null;

    public string? DoneText => Done switch
    {
        "subscription" => "The subscription was saved.",
        "renewed" => "The subscription was renewed for a year.",
        "disabled" => "The key was disabled. It is refused from now on.",
        "enabled" => "The key was enabled.",
        "limits" => "The limits were saved.",
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
