using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

/// <summary>
/// Administration > API Configuration > Legacy API > Cloud &amp; Branch Connector API: the org's keys, their
/// base URL, status and last change. Every action goes through <see cref="KeyLifecycle"/>, like the APIs.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class ApiKeysModel(OrgStateCache orgs, KeyLifecycle lifecycle, TimeProvider clock) : PageModel
{
    public const string Route = "/admin/api-configuration/legacy-api/cloud-branch-connector-api";

    public OrgSnapshot Org { get; private set; } = null!;
    public Actor Me { get; private set; } = null!;
    public long NowMs { get; private set; }
    public string? Error { get; private set; }
    public string? Notice { get; private set; }

    public bool CanChange(KeySnapshot? key) =>
        Me.Role == AdminRole.SUPER_ADMIN && Org.SubscriptionEnabled && !Org.IsExpired(NowMs) && key?.DisabledReason is null;

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAddAsync(string keyType)
    {
        if (!await LoadAsync()) return NotFound();
        if (!Enum.TryParse<KeyType>(keyType, out var type) || !Enum.IsDefined(type)) return BadRequest();
        var result = await lifecycle.AddAsync(Me, Org.OrgId, type);
        if (result.Error is { } e) { Error = e.Message; Response.StatusCode = e.Status; await LoadAsync(); return Page(); }
        return RedirectToPage();
    }

    private async Task<bool> LoadAsync()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        NowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Response.Headers.CacheControl = "no-store";
        var org = await orgs.GetAsync(Me.OrganizationId!.Value, HttpContext.RequestAborted);
        if (org is null) return false;
        Org = org;
        return true;
    }

    public static string Label(KeyType t) => t == KeyType.CLOUD_SERVICE ? "Cloud Service API Key" : "Sandbox Submission API Key";

    public string StatusText(KeySnapshot k) => Org.StatusOf(k, NowMs) switch
    {
        KeyStatus.ENABLED => "Enabled",
        KeyStatus.DISABLED => "Disabled",
        _ => Org.SubscriptionEnabled ? "Subscription expired" : "No API subscription",
    };

    public static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");
}
