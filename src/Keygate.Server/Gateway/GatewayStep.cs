using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Keygate.Gateway;

/// <summary>
/// Keygate's step in front of every gateway call (contract A7), in its order: cross-site, session, rate limit by the
/// call's weight, threshold (the session gate does those three and counts the call), then the body limit. What it
/// refuses it answers with {code,message} and, once metered, the X-RateLimit-* headers. A singleton holding what it
/// needs, so a call resolves nothing but its own LegacyCaller.
/// </summary>
public sealed class GatewayStep(SessionGate gate, IOptions<KeygateOptions> options)
{
    /// <summary>A route's metadata key naming the weight its calls count with ("Light", "Medium" or "Heavy").</summary>
    public const string WeightMetadata = "Keygate.Weight";

    public static readonly KeygateError RequestTooLarge = new(413, "REQUEST_TOO_LARGE", "The request body is too large.");
    public static readonly KeygateError NoRoute = new(404, "RESOURCE_NOT_FOUND", "The resource does not exist.");

    /// <summary>True when the call may go on; otherwise the refusal has been written.</summary>
    public async ValueTask<bool> PassAsync(HttpContext http, string method, IReadOnlyDictionary<string, string>? metadata)
    {
        if (CrossSite.Refusal(http.Request) is { } crossSite) return await RefuseAsync(http, crossSite);
        var caller = http.RequestServices.GetRequiredService<LegacyCaller>();
        var refusal = await gate.CheckAsync(http, caller, WeightOf(method, metadata));
        caller.Rate.WriteTo(http.Response);
        if (refusal is not null) return await RefuseAsync(http, refusal);
        return true;
    }

    /// <summary>Refuses a body declared too large, and makes the server stop reading one that turns out so.</summary>
    public async ValueTask<bool> LimitBodyAsync(HttpContext http)
    {
        var max = options.Value.Gateway.MaxRequestBytes;
        if (http.Request.ContentLength > max) return await RefuseAsync(http, RequestTooLarge);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;
        return true;
    }

    public static MethodWeight WeightOf(string method, IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(WeightMetadata, out var named) && Enum.TryParse<MethodWeight>(named, ignoreCase: true, out var w)
            ? w : MeterDecision.WeightOf(method);

    public static async ValueTask<bool> RefuseAsync(HttpContext http, KeygateError refusal)
    {
        await ErrorResponses.Legacy(refusal, http).ExecuteAsync(http);
        return false;
    }
}
