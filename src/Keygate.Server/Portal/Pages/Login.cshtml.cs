using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Keygate.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Portal.Pages;

/// <summary>
/// One login for org admins (to the key page) and provider staff (to the console): username and password
/// only, never the API key, throttled like the legacy login. It works whatever state the org's key is in.
/// </summary>
public sealed class LoginModel(AppDbContext db, Passwords passwords, LoginThrottle throttle, AuditWriter audit, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Username { get; set; }
    [BindProperty] public string? Password { get; set; }
    public string? Error { get; private set; }

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? Redirect("/") : Page();

    private PageResult Busy()
    {
        Response.StatusCode = 503;
        Response.Headers.RetryAfter = "1";
        Error = "Too many logins are in progress. Try again in a moment.";
        return Page();
    }

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
        // The attempt counts as a failure until the password proves right.
        await using var attempt = await throttle.BeginAsync(username, address);
        if (attempt.Busy) return Busy();
        if (attempt.RetryAfter is { } wait)
        {
            Response.StatusCode = 429;
            Response.Headers.RetryAfter = wait.ToString();
            Error = $"Too many failed logins. Try again in {Math.Max(1, wait / 60)} minute(s).";
            return Page();
        }
        var normalized = Account.Normalize(username);
        // A disabled login is checked like any other, so only someone who knows its password learns it is disabled (below).
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.NormalizedUsername == normalized);
        var actor = new Actor(ActorKind.OrgAdmin, account?.Id ?? 0, username.Length > 64 ? username[..64] : username, address);
        var verified = await passwords.TryVerifyAsync(account, Password, HttpContext.RequestAborted);
        if (verified is null) return Busy();
        var action = account?.Kind == AccountKind.Staff ? "console.login" : "portal.login";
        if (verified == false)
        {
            attempt.Fail();
            audit.Enqueue(AuditLog.Event(actor, account?.OrganizationId, action, null, "INVALID_USERNAME_OR_PASSWORD", now));
            Error = "Invalid username or password.";
            return Page();
        }

        // A disabled login is refused once its password proved right (only its owner learns it is disabled).
        if (account!.Disabled)
        {
            audit.Enqueue(AuditLog.Event(actor, account.OrganizationId, action, null, "ACCOUNT_DISABLED", now));
            Error = "This login is disabled.";
            return Page();
        }
        string? spName = null;
        if (account!.ServiceProviderId is { } spId)
            spName = await db.ServiceProviders.AsNoTracking().Where(s => s.Id == spId).Select(s => s.Name).FirstAsync();
        audit.Enqueue(AuditLog.Event(actor, account.OrganizationId, action, null, AuditLog.Success, now,
            account.Kind == AccountKind.Staff ? $"staff={account.Username}" : ""));
        await HttpContext.SignInAsync(PortalAuth.Scheme, PortalAuth.Principal(account, spName, now));
        var home = account.Kind == AccountKind.Staff ? PortalAuth.ConsoleHome : ApiKeysModel.Route;
        // A return address is honoured only inside the area this account may open.
        var area = account.Kind == AccountKind.Staff ? "/console" : "/admin";
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && ReturnUrl!.StartsWith(area, StringComparison.OrdinalIgnoreCase) ? ReturnUrl : home);
    }
}
