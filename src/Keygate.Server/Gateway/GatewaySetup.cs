using Keygate.Identity;
using Keygate.Metering;
using Keygate.Sessions;
using Keygate.Kernel;
using Yarp.ReverseProxy.Model;

namespace Keygate.Gateway;

/// <summary>
/// The gateway (contract A7): YARP, configured in its own schema under Keygate:Gateway (Routes, Clusters) and
/// hot-reloaded as YARP reloads it, behind Keygate's step; the identity token's JWKS.
/// </summary>
public static class GatewaySetup
{
    public static IServiceCollection AddKeygateGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<IdentityTokens>();
        services.AddSingleton<GatewayStep>();
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("Keygate:Gateway"))
            .AddConfigFilter<GatewayTimeoutDefault>()
            .AddTransforms(GatewayForwarding.Transforms);
        return services.AddGatewayApiDocs();
    }

    public static void MapKeygateGateway(this WebApplication app)
    {
        app.MapGet("/.well-known/jwks.json", async (SigningKeyRing ring, HttpContext http) =>
            TypedResults.Text(await ring.JwksAsync(http.RequestAborted), "application/json")).WithTags("Gateway")
            // A well-known document like /healthz, not an operation of the API (docs/gateway.md describes it).
            .ExcludeFromDescription();
        app.MapForwardAuth();
        var step = app.Services.GetRequiredService<GatewayStep>();
        var counts = app.Services.GetRequiredService<GatewayCounts>();
        var metrics = app.Services.GetRequiredService<KeygateMetrics>();

        // Keygate's own /api/v1 routes are literal and so win over a route's catch-all; YARP's routes win over the
        // fallback below, whose order puts it last.
        app.MapReverseProxy(pipeline =>
        {
            pipeline.Use(async (http, next) =>
            {
                var route = http.GetReverseProxyFeature().Route.Config;
                if (!await step.PassAsync(http, http.Request.Method, route.Metadata) || !await step.LimitBodyAsync(http)) return;
                var org = http.RequestServices.GetRequiredService<LegacyCaller>().Org;
                counts.CountForwarded(org.OrgId, org.Limits);
                await GatewayForwarding.ForwardAsync(http, route.RouteId, next, metrics);
                // Keygate's own 502/504 (unreachable, silent) and the same statuses relayed from a proxy upstream.
                if (http.Response.StatusCode is StatusCodes.Status502BadGateway or StatusCodes.Status504GatewayTimeout)
                    counts.CountUpstreamError(org.OrgId, org.Limits);
            });
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });

        // An /api/v1 request neither Keygate nor a gateway route answers (no route for its path, or only for other
        // methods): checked and counted like any call, then 404 (contract A7). A middleware at the end of the pipeline
        // rather than a catch-all fallback route: routing treats a catch-all as a candidate of every /api/v1 path and
        // captured its value on every legacy call, a route-value dictionary per call (issue 18).
        app.Use((http, next) => IsUnrouted(http) ? UnroutedAsync(http, step) : next(http));

        // Warm the signing key at start, so the first call does not wait for it (and a broken KEK fails early).
        app.Services.GetRequiredService<SigningKeyRing>().LoadAsync().GetAwaiter().GetResult();
    }

    /// <summary>Routing's endpoint for a path whose routes take other methods (HttpMethodMatcherPolicy's display name).</summary>
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    private static bool IsUnrouted(HttpContext http) =>
        http.Request.Path.StartsWithSegments("/api/v1")
        && (http.GetEndpoint() is not { } endpoint || endpoint.DisplayName == MethodNotAllowedEndpoint);

    private static async Task UnroutedAsync(HttpContext http, GatewayStep step)
    {
        if (await step.PassAsync(http, http.Request.Method, null)) await GatewayStep.RefuseAsync(http, GatewayStep.NoRoute);
    }
}
