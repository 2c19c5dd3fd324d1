namespace Keygate.Portal;

/// <summary>
/// Browser hardening for the portal and console pages and their static files. The legacy and provider
/// APIs keep their responses exactly as they were.
/// </summary>
public static class PortalHeaders
{
    private const string Csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private static readonly PathString[] Prefixes = ["/login", "/logout", "/admin", "/console", "/portal.css", "/portal.js"];

    /// <summary>Asked on every request (<see cref="PortalPipeline"/>): a loop, since a lambda over the path would allocate a closure per call.</summary>
    public static bool IsPortalPath(PathString path)
    {
        if (path.Value is "/" or "" or null) return true;
        foreach (var p in Prefixes)
            if (path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    public static bool IsStaticFile(PathString path) =>
        path.StartsWithSegments("/portal.css") || path.StartsWithSegments("/portal.js");

    /// <summary>Only in the portal's branch of the pipeline (<see cref="PortalPipeline"/>), so every request it sees is the portal's.</summary>
    public static void UsePortalHeaders(this IApplicationBuilder app) => app.Use((ctx, next) =>
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
        return next(ctx);
    });
}
