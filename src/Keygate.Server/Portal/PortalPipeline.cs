namespace Keygate.Portal;

/// <summary>
/// The middleware only the portal's pages and files need — its headers, its static files, cookie authentication,
/// authorization and antiforgery — in a branch that only the portal's paths (<see cref="PortalHeaders.IsPortalPath"/>)
/// take. Every other route (legacy, gateway, provider API, ops) checks its own callers and reads no portal cookie, and
/// no endpoint outside the portal's paths carries authorization or antiforgery metadata; before issue 18 each of those
/// calls still authenticated the portal cookie scheme and ran both middlewares (about 7 % of a gateway call's CPU).
/// </summary>
public static class PortalPipeline
{
    // WebApplication adds these three middlewares at the start of the pipeline, for every request, unless the
    // application says that it added them itself; a branch's builder keeps its own copy of the properties, so the
    // application's are set here. (The keys are those of AuthAppBuilderExtensions, AuthorizationAppBuilderExtensions
    // and AntiforgeryApplicationBuilderExtensions; HotPathAllocationTests would see the middlewares run on an API call.)
    private static readonly string[] SetKeys = ["__AuthenticationMiddlewareSet", "__AuthorizationMiddlewareSet", "__AntiforgeryMiddlewareSet"];

    public static void UsePortalPipeline(this WebApplication app)
    {
        app.UseWhen(ctx => PortalHeaders.IsPortalPath(ctx.Request.Path), portal =>
        {
            portal.UsePortalHeaders();
            portal.UsePortalAssets();
            portal.UseAuthentication();
            portal.UseAuthorization();
            portal.UseAntiforgery();
        });
        foreach (var key in SetKeys) ((IApplicationBuilder)app).Properties[key] = true;
    }
}
