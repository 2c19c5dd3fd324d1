using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Portal.Pages;

/// <summary>The org admin's portal login: username and password only, never the API key.</summary>
public sealed class LoginModel(AppDbContext db, Passwords passwords, LoginThrottle throttle, AuditWriter audit, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Username { get; set; }
    [BindProperty] public string? Password { get; set; }
    public string? Error { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        var username = Username ?? "";
        var address = ClientAddress.Of(HttpContext);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (username.Length is 0 or > 256 || Password is null || Password.Length > 1024)
        {
            Error = "Enter your username and password.";
            return Page();
        }
        if (throttle.RetryAfter(username, address) is { } wait)
        {
            Response.StatusCode = 429;
            Response.Headers.RetryAfter = wait.ToString();
            Error = $"Too many failed logins. Try again in {Math.Max(1, wait / 60)} minute(s).";
            return Page();
        }
        var normalized = Account.Normalize(username);
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.NormalizedUsername == normalized && a.Kind == AccountKind.OrgAdmin);
        var actor = new Actor(ActorKind.OrgAdmin, account?.Id ?? 0, username.Length > 64 ? username[..64] : username, address);
        var verified = await passwords.TryVerifyAsync(account, Password, HttpContext.RequestAborted);
        if (verified is null)
        {
            Response.StatusCode = 503;
            Response.Headers.RetryAfter = "1";
            Error = "Too many logins are in progress. Try again in a moment.";
            return Page();
        }
        if (verified == false)
        {
            throttle.RecordFailure(username, address);
            audit.Enqueue(AuditLog.Event(actor, account?.OrganizationId, "portal.login", null, "INVALID_USERNAME_OR_PASSWORD", now));
            Error = "Invalid username or password.";
            return Page();
        }
        audit.Enqueue(AuditLog.Event(actor, account!.OrganizationId, "portal.login", null, AuditLog.Success, now));
        var identity = new ClaimsIdentity(PortalAuth.Claims(account), PortalAuth.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        await HttpContext.SignInAsync(PortalAuth.Scheme, new ClaimsPrincipal(identity));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : ApiKeysModel.Route);
    }
}
