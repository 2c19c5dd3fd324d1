using System.Net;

namespace Keygate.Portal;

/// <summary>
/// Errors on portal and console paths are a small HTML page, not problem JSON that a person cannot read. The page
/// still names the stable code (contract C), for support and for scripts that drive the portal.
/// </summary>
public static class PortalErrorPage
{
    public static Task WriteAsync(HttpContext ctx, int status, string code, string message)
    {
        var title = status switch
        {
            400 => "The request was refused",
            403 => "You cannot open this page",
            404 => "Not found",
            503 => "The service is temporarily unavailable",
            _ => "Something went wrong",
        };
        var home = ctx.User.Identity?.IsAuthenticated == true ? "/" : "/login";
        ctx.Response.ContentType = "text/html; charset=utf-8";
        return ctx.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>{title} · Keygate</title><link rel="stylesheet" href="/portal.css" /></head>
            <body><header class="top"><a class="brand" href="/">Keygate</a></header>
            <main><section class="card"><h1>{title}</h1><p>{WebUtility.HtmlEncode(message)}</p>
            <p class="hint">Error code: <code data-error-code="{code}">{code}</code></p><p><a href="{home}">Back to the start page</a></p></section></main>
            </body></html>
            """);
    }
}
