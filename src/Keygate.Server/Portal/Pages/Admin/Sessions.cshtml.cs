using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Sessions;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;

namespace Keygate.Portal.Pages;

/// <summary>The org's live legacy API sessions, "end all", and the org's choice to end them when the key changes.</summary>
public sealed class SessionsModel(OrgStateCache orgs, SessionStore sessions, KeyLifecycle lifecycle, SessionEnding ending, TimeProvider clock) : PageModel
{
    public OrgSnapshot Org { get; private set; } = null!;
    public Actor Me { get; private set; } = null!;
    public IReadOnlyList<SessionEntry> Live { get; private set; } = [];
    public string? Error { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }

    public bool CanChange => Me.Rights.CanChangeKeys;

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostEndAllAsync()
    {
        if (!await LoadAsync()) return NotFound();
        var result = await ending.EndAllAsync(Me, Org.OrgId);
        return result.Error is { } e ? Refuse(e) : Redirect($"/admin/sessions?done=ended{result.Value}");
    }

    public async Task<IActionResult> OnPostSwitchAsync(bool endSessionsOnKeyChange)
    {
        if (!await LoadAsync()) return NotFound();
        var result = await lifecycle.UpdateOrganizationAsync(Me, Org.OrgId, null, null, endSessionsOnKeyChange);
        return result.Error is { } e ? Refuse(e) : Redirect("/admin/sessions?done=saved");
    }

    private IActionResult Refuse(KeygateError e)
    {
        Response.StatusCode = e.Status;
        Error = e.Message;
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(Me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return false;
        Org = org;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Live = await sessions.LiveOfAsync(org.OrgId, now, HttpContext.RequestAborted);
        return true;
    }

    public string? DoneText => Done switch
    {
        "saved" => "Saved.",
        { } d when d.StartsWith("ended") => $"Ended {d[5..]} {(d[5..] == "1" ? "session" : "sessions")}. Their clients must log in again.",
        _ => null,
    };
}
