namespace Keygate.Portal;

/// <summary>
/// Browser hardening for the portal and console pages and their static files. The legacy and provider
/// APIs keep their responses exactly as they were.
/// </summary>
public static class PortalHeaders
{
    private const string Csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private static readonly string[] Prefixes = ["/login", "/logout", "/admin", "/console", "/portal.css", "/portal.js"];

    public static bool IsPortalPath(PathString path) =>
        path.Value is "/" or "" || Prefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    public static bool IsStaticFile(PathString path) =>
        path.StartsWithSegments("/portal.css") || path.StartsWithSegments("/portal.js");

    public static void UsePortalHeaders(this WebApplication app) => app.Use((ctx, next) =>
    {
        if (IsPortalPath(ctx.Request.Path))
        {
            ctx.Response.OnStarting(() =>
            {
                var h = ctx.Response.Headers;
                h.ContentSecurityPolicy = Csp;
                h.XContentTypeOptions = "nosniff";
                h.XFrameOptions = "DENY";
                h["Referrer-Policy"] = "no-referrer";
                // Pages show keys and who did what: never kept by a browser or a proxy.
                if (!IsStaticFile(ctx.Request.Path)) h.CacheControl = "no-store";
                return Task.CompletedTask;
            });
        }
        return next(ctx);
    });
}
