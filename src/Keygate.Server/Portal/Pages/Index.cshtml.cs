using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

public sealed class IndexModel : PageModel
{
    public IActionResult OnGet() => Redirect(
        User.Identity?.IsAuthenticated != true ? "/login"
        : PortalAuth.IsStaff(User) ? PortalAuth.ConsoleHome
        : ApiKeysModel.Route);
}
