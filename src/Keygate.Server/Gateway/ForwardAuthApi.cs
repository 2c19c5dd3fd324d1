using System.Globalization;
using Keygate.Identity;
using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Sessions;

namespace Keygate.Gateway;

/// <summary>
/// Forward-auth mode (contract A7): a provider's own proxy (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz)
/// asks before it forwards. The same checks as a forwarded call, on the original method and URI, counted the same
/// (the question carries the original's headers but not its body, so a write's Content-Type is judged by its header);
/// the answer is 200 with the headers the proxy passes on, or the refusal (its body also in X-Keygate-Refusal, for nginx).
/// </summary>
public static class ForwardAuthApi
{
    public static readonly KeygateError NoOriginalUri = KeygateError.Invalid("X-Original-URI (or X-Forwarded-Uri) is required.");

    public static void MapForwardAuth(this IEndpointRouteBuilder app) =>
        app.MapGet("/gateway/v1/authorize", Authorize).WithTags("Gateway").WithName("ForwardAuthorize")
            .WithSummary("Forward-auth for nginx auth_request, Traefik or Envoy: checks the original request and answers the identity token headers")
            .Produces(StatusCodes.Status200OK).OnLegacySession().RefusesLegacy(400, "INVALID_INPUT_ARGUMENT")
            .RefusesLegacy(415, "UNSUPPORTED_MEDIA_TYPE");

    private static async Task Authorize(HttpContext http, GatewayStep step, IdentityTokens tokens, GatewayCounts counts)
    {
        var h = http.Request.Headers;
        string? First(string a, string b) => h[a] is { Count: > 0 } v ? v[0] : h[b] is { Count: > 0 } w ? w[0] : null;
        if (First("X-Original-URI", "X-Forwarded-Uri") is null)
        {
            await GatewayStep.RefuseAsync(http, NoOriginalUri, refusalInHeader: true);
            return;
        }
        // The route's own weight is not known here (the provider's proxy routes); the method's weight counts.
        if (!await step.PassAsync(http, First("X-Original-Method", "X-Forwarded-Method") ?? HttpMethods.Get, null, refusalInHeader: true)) return;
        var caller = http.RequestServices.GetRequiredService<LegacyCaller>();
        var response = http.Response.Headers;
        response.Authorization = await tokens.BearerAsync(caller.Session, caller.Org);
        response["X-Keygate-Org-Id"] = caller.Org.OrgId.ToString(CultureInfo.InvariantCulture);
        response["X-Keygate-Admin-Id"] = caller.Session.AccountId.ToString(CultureInfo.InvariantCulture);
        response.CacheControl = "no-store";
        counts.CountForwarded(caller.Org.OrgId, caller.Org.Limits);
        http.Response.StatusCode = StatusCodes.Status200OK;
    }
}
