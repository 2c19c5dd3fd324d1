using Keygate.Accounts;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

/// <summary>
/// Administration › Administrator Management › Password: the admin changes their own password through
/// <see cref="OwnPasswordChange"/>, like the legacy passwordChange. Their other sessions (legacy and portal) end; this
/// login is re-issued with the new password's time and stays open. An expired or reset password is changed here first.
/// </summary>
public sealed class PasswordModel(OwnPasswordChange change, OrgStateCache orgs) : PageModel
{
    public const string Route = PasswordChangeGate.PasswordPage;

    public Actor Me { get; private set; } = null!;
    public bool Forced { get; private set; }
    /// <summary>The provider reset the password (else it expired), for the banner of a forced change.</summary>
    public bool WasReset { get; private set; }
    public KeygateError? Error { get; private set; }
    /// <summary>The field the error belongs to: "current", "new" or "confirm"; null for a page-wide one.</summary>
    public string? ErrorField { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }

    public void OnGet() => Load();

    public async Task<IActionResult> OnPostAsync(string? currentPassword, string? newPassword, string? confirmPassword)
    {
        Load();
        if (string.IsNullOrEmpty(currentPassword) || currentPassword.Length > 1024)
            return Refuse(KeygateError.Invalid("currentPassword", "Enter your current password."), "current");
        if (newPassword != confirmPassword)
            return Refuse(KeygateError.Invalid("confirmPassword", "The two new passwords are not the same."), "confirm");
        var error = await change.ChangeAsync(Me, Me.OrganizationId!.Value, Me.Name, currentPassword, newPassword, null, HttpContext.RequestAborted);
        if (error is not null)
        {
            if (error.RetryAfterSeconds is { } wait) Response.Headers.RetryAfter = wait.ToString();
            return Refuse(error, error == KeygateError.InvalidUsernameOrPassword ? "current" : error == KeygateError.InvalidPassword ? "new" : null);
        }
        // The change moved the password's time, which ends every portal login made before it, this one too: a new cookie
        // with the new time keeps this login (its id and start, so logout and the 12-hour limit still hold).
        var admin = (await orgs.GetAsync(Me.OrganizationId.Value, HttpContext.RequestAborted))?.ActiveAdmin(Me.Id);
        if (admin is not null) await HttpContext.SignInAsync(PortalAuth.Scheme, PortalAuth.WithPasswordSet(User, admin.PasswordChangedAtMs));
        return Redirect($"{Route}?done=changed");
    }

    private PageResult Refuse(KeygateError e, string? field)
    {
        Response.StatusCode = e.Status;
        (Error, ErrorField) = (e, field);
        return Page();
    }

    private void Load()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        Forced = PortalAuth.MustChangePassword(HttpContext);
        WasReset = (HttpContext.Items[typeof(AdminSnapshot)] as AdminSnapshot)?.PasswordMustChange == true;
    }

    public string? ErrorFor(string field) => ErrorField == field ? Error?.Message : null;
}
