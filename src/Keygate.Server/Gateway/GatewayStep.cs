using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using System.Text.Json;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

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

    /// <summary>
    /// A forward-auth refusal's body, repeated as a header: nginx's auth_request drops the body of the answer it asked
    /// for, but can relay this header as the client's body (docs/gateway.md, forward-auth).
    /// </summary>
    public const string RefusalHeader = "X-Keygate-Refusal";

    /// <summary>True when the call may go on; otherwise the refusal has been written (also as <see cref="RefusalHeader"/> when asked).</summary>
    public async ValueTask<bool> PassAsync(HttpContext http, string method, IReadOnlyDictionary<string, string>? metadata, bool refusalInHeader = false)
    {
        if (CrossSite.Refusal(http.Request, method) is { } crossSite) return await RefuseAsync(http, crossSite, refusalInHeader);
        var caller = http.RequestServices.GetRequiredService<LegacyCaller>();
        var refusal = await gate.CheckAsync(http, caller, WeightOf(method, metadata));
        caller.Rate.WriteTo(http.Response);
        if (refusal is not null) return await RefuseAsync(http, refusal, refusalInHeader);
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

    public static async ValueTask<bool> RefuseAsync(HttpContext http, KeygateError refusal, bool refusalInHeader = false)
    {
        var answer = ErrorResponses.Legacy(refusal, http);
        // The JSON options escape everything outside ASCII, so the body is a valid header value as it is.
        if (refusalInHeader)
            http.Response.Headers[RefusalHeader] = JsonSerializer.Serialize(answer.Value,
                http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions);
        await answer.ExecuteAsync(http);
        return false;
    }
}
