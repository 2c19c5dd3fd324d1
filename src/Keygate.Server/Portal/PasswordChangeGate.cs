using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Keygate.Portal;

/// <summary>
/// Contract A8: the portal asks an admin whose password expired or was reset for a new one before anything else. Every
/// page and form of the portal but the password page and logout answers with a redirect there until the change is done
/// (a form posted meanwhile changes nothing).
/// </summary>
public sealed class PasswordChangeGate : IAsyncPageFilter
{
    public const string PasswordPage = "/admin/password";
    private static readonly string[] Open = ["/Admin/Password", "/Logout"];

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (PortalAuth.MustChangePassword(context.HttpContext) && !Open.Contains(context.ActionDescriptor.ViewEnginePath))
        {
            context.Result = new RedirectResult(PasswordPage);
            return Task.CompletedTask;
        }
        return next();
    }
}
