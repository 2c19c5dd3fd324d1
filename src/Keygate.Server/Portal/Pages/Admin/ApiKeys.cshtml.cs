using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.Portal.Pages;

/// <summary>
/// Administration > API Configuration > Legacy API > Cloud &amp; Branch Connector API: the org's keys, their
/// base URL, status and last change. Every action goes through <see cref="KeyLifecycle"/>, like the APIs;
/// the page offers only what the lifecycle would allow, and says why when it offers nothing.
/// </summary>
public sealed class ApiKeysModel(OrgStateCache orgs, KeyLifecycle lifecycle, TimeProvider clock) : PageModel
{
    public const string Route = "/admin/api-configuration/legacy-api/cloud-branch-connector-api";

    public OrgSnapshot Org { get; private set; } = null!;
    public Actor Me { get; private set; } = null!;
    public long NowMs { get; private set; }
    public string? Error { get; private set; }
    public string? FieldError { get; private set; }
    public string? NewValue { get; private set; }

    /// <summary>The open confirmation: "edit", "regenerate" or "delete", for <see cref="ConfirmKey"/>.</summary>
    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? ConfirmKey { get; set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    /// <summary>The action link a cancelled confirmation hands the focus back to, e.g. "regenerate-5".</summary>
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }

    /// <summary>Where Cancel leads without script: back to the page, with the focus on the link that opened the dialog.</summary>
    public static string CancelHref(string action, KeySnapshot key) => $"{Route}?focus={action}-{key.Id}";

    /// <summary>True on the action link named by <see cref="Focus"/> (rendered as autofocus), otherwise no attribute.</summary>
    public bool? Refocus(string action, KeySnapshot key) => Focus == $"{action}-{key.Id}" && Confirm is null ? true : null;

    // A suspended org is shown read-only (contract B); the lifecycle refuses the change anyway.
    public bool CanChange(KeySnapshot? key) => !Org.Suspended &&
        KeyLifecycle.OrgAdminRefusal(Me, Org.SubscriptionEnabled, Org.ExpiresAt, key?.DisabledReason is not null,
            Org.Cloud?.DisabledReason is not null, NowMs) is null;

    /// <summary>The confirmation to show, only for a key that may still be changed that way.</summary>
    public KeySnapshot? Confirming(string action) =>
        Confirm == action && ConfirmKey is { } id && Org.Find(id) is { } k && CanChange(k)
        && (action != "edit" || k.Type == KeyType.CLOUD_SERVICE) ? k : null;

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public Task<IActionResult> OnPostAddAsync(string? keyType) => ChangeAsync("add", null, async () =>
        Enum.TryParse<KeyType>(keyType, out var type) && Enum.IsDefined(type)
            ? (await lifecycle.AddAsync(Me, Org.OrgId, type)).Error
            : KeygateError.Invalid("keyType", "Unknown key type."));

    public Task<IActionResult> OnPostEditAsync(long keyId, string? newValue)
    {
        NewValue = newValue;
        return ChangeAsync("edit", keyId, async () => (await lifecycle.EditAsync(Me, Org.OrgId, keyId, newValue?.Trim())).Error);
    }

    public Task<IActionResult> OnPostRegenerateAsync(long keyId) =>
        ChangeAsync("regenerate", keyId, async () => (await lifecycle.RegenerateAsync(Me, Org.OrgId, keyId)).Error);

    public Task<IActionResult> OnPostDeleteAsync(long keyId) =>
        ChangeAsync("delete", keyId, async () => (await lifecycle.DeleteAsync(Me, Org.OrgId, keyId)).Error);

    /// <summary>Runs one lifecycle change; success redirects (so a reload never repeats it), a refusal re-renders with the reason.</summary>
    private async Task<IActionResult> ChangeAsync(string action, long? keyId, Func<Task<KeygateError?>> change)
    {
        if (!await LoadAsync()) return NotFound();
        if (await change() is not { } e) return Redirect($"{Route}?done={action}");

        await LoadAsync();
        Response.StatusCode = e.Status;
        if (action == "edit" && e.Code is "INVALID_KEY_VALUE" or "KEY_VALUE_UNCHANGED")
        {
            // Wrong input: the dialog stays open with the error beside the field.
            (Confirm, ConfirmKey, FieldError) = ("edit", keyId, e.Message);
        }
        else
        {
            (Confirm, ConfirmKey, Error) = (null, null, e.Message);
        }
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        NowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
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

    public static string ReasonText(DisabledReason r) => r switch
    {
        DisabledReason.THRESHOLD_EXCEEDED => "your organization exceeded its API call threshold",
        DisabledReason.TERMS_VIOLATION => "a violation of the terms and conditions",
        _ => "a decision of your service provider",
    };

    public string? DoneText => Done switch
    {
        "add" => "The key was added. It is valid now.",
        "edit" => "The Cloud Service API key was changed. The old key no longer works.",
        "regenerate" => "A new key was generated. The old key no longer works.",
        "delete" => "The key was deleted. It no longer works.",
        _ => null,
    };

    public static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");
}
