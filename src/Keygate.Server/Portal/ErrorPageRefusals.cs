using Keygate.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal;

public static class ErrorPageRefusals
{
    /// <summary>
    /// A refusal that has no place on the page answers with the portal's error page: something not of this org is 404
    /// (as if it did not exist), a missing right 403. Null for the refusals the page shows beside its form.
    /// </summary>
    public static IActionResult? AsErrorPage(this PageModel page, KeygateError e) =>
        e == KeygateError.NotFound ? page.NotFound()
        : e.Code == KeygateError.AccessDenied.Code ? page.StatusCode(e.Status)
        : null;
}
