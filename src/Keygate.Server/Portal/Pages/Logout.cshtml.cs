using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

public sealed class LogoutModel(PortalLogouts logouts) : PageModel
{
    public IActionResult OnGet() => Redirect("/login");

    public async Task<IActionResult> OnPostAsync()
    {
        if (User.FindFirstValue(PortalAuth.SessionClaim) is { } sid) await logouts.AddAsync(sid, PortalAuth.LoginAtMs(User));
        await HttpContext.SignOutAsync(PortalAuth.Scheme);
        return Redirect("/login");
    }
}
