using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Organizations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

/// <summary>
/// The org page's part over time (contract B): its administrators and their password resets, suspension and resume,
/// and deletion. The rules are the features' (<see cref="Accounts.AdminDirectory"/>, <see cref="KeyLifecycle"/>,
/// <see cref="OrgDeletion"/>), as for the provider API. A temporary password is shown once, in the answer to the post
/// that made it; a deletion is confirmed by typing the org's name, and only a suspended org can be deleted.
/// </summary>
public sealed partial class OrganizationModel
{
    public IReadOnlyList<Account> Admins { get; private set; } = [];
    /// <summary>The admin whose password was just reset and the temporary password, shown this once.</summary>
    public (string Username, string Password)? Reset { get; private set; }
    [BindProperty(SupportsGet = true)] public long? ConfirmAdmin { get; set; }
    /// <summary>The name typed into the delete confirmation, kept when it did not match.</summary>
    public string? TypedName { get; private set; }

    /// <summary>The admin whose reset is being confirmed.</summary>
    public Account? Resetting => Confirm == "reset" && Reset is null ? Admins.FirstOrDefault(a => a.Id == ConfirmAdmin) : null;
    public bool Suspending => Confirm == "suspend" && !Org.Suspended;
    public bool Deleting => Confirm == "delete" && Org.Suspended;
    private bool LifecycleDialogOpen => Resetting is not null || Suspending || Deleting;

    public async Task<IActionResult> OnPostResetPasswordAsync(long orgId, long adminId)
    {
        if (!await LoadAsync(orgId)) return NotFound();
        var reset = await admins.ResetPasswordAsync(Me, Org.OrgId, adminId);
        if (!await LoadAsync(orgId)) return NotFound();
        Limits = LimitsForm.From(Org.Limits);
        if (reset.Error is { } e) return Refused(e);
        Reset = (Admins.First(a => a.Id == adminId).Username, reset.Value!);
        return Page();
    }

    public Task<IActionResult> OnPostSuspendAsync(long orgId, string? note) => ChangeAsync(orgId, "suspended", async () =>
    {
        var request = new SuspendRequest(string.IsNullOrWhiteSpace(note) ? null : note.Trim());
        return await validator.ValidateAsync(request) ?? (await lifecycle.SetSuspendedAsync(Me, Org.OrgId, true, request.Note)).Error;
    });

    public Task<IActionResult> OnPostResumeAsync(long orgId) =>
        ChangeAsync(orgId, "resumed", async () => (await lifecycle.SetSuspendedAsync(Me, Org.OrgId, false, null)).Error);

    public async Task<IActionResult> OnPostDeleteAsync(long orgId, string? confirmName, [FromServices] OrgDeletion deletion)
    {
        if (!await LoadAsync(orgId)) return NotFound();
        Limits = LimitsForm.From(Org.Limits);
        if (!string.Equals(confirmName?.Trim(), Org.Name, StringComparison.Ordinal))
        {
            (Confirm, TypedName) = ("delete", confirmName);
            return Refused(KeygateError.Invalid("confirmName", "Type the organization's name exactly as shown to delete it."));
        }
        if (await deletion.DeleteAsync(Me, Org.OrgId) is { } e)
        {
            if (!await LoadAsync(orgId)) return NotFound();
            return Refused(e);
        }
        return Redirect($"{PortalAuth.ConsoleHome}?done=deleted");
    }

    private PageResult Refused(KeygateError e)
    {
        Response.StatusCode = e.Status;
        Error = e;
        return Page();
    }

    /// <summary>How the admin list names an admin's state.</summary>
    public static string AdminStatus(Account a) => a.Disabled ? "Disabled" : a.PasswordMustChange ? "Must change password" : "Enabled";
}
