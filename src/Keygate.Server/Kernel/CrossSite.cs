using Microsoft.Net.Http.Headers;

namespace Keygate.Kernel;

/// <summary>
/// Cross-site protection of the session-authenticated routes (contract A2): the session cookie is SameSite=Strict,
/// but a sibling subdomain is the same site and gets it, so a request that a browser marks as coming from another
/// origin is refused, and so is any write whose body a browser form or a "simple" fetch could send. The legacy
/// routes and the gateway ask the same question.
/// </summary>
public static class CrossSite
{
    public static readonly KeygateError Refused = new(403, "ACCESS_DENIED", "Requests from another origin are refused.");

    /// <summary>
    /// The site check and then the content-type check: 403 for another origin, 415 for a write whose
    /// Content-Type is not application/json (even with an empty body), else null.
    /// </summary>
    public static KeygateError? Refusal(HttpRequest r) => Refusal(r, r.Method);

    /// <summary>
    /// The same for a request made with <paramref name="method"/>: forward-auth's question is a GET that carries the
    /// original request's headers (Content-Type among them) and names the original method in a header.
    /// </summary>
    public static KeygateError? Refusal(HttpRequest r, string method) => OriginRefusal(r) ?? ContentTypeRefusal(r, method);

    /// <summary>
    /// 403 when the browser says the request comes from another site or a sibling subdomain (Sec-Fetch-Site), or
    /// when it names an Origin that is not this server's own. Clients that send neither header (SDKs, curl) pass.
    /// </summary>
    public static KeygateError? OriginRefusal(HttpRequest r)
    {
        var site = r.Headers["Sec-Fetch-Site"];
        if (site.Count > 0 && site.Any(s => s is not null && (s.Equals("cross-site", StringComparison.OrdinalIgnoreCase)
            || s.Equals("same-site", StringComparison.OrdinalIgnoreCase))))
            return Refused;
        var origin = r.Headers.Origin;
        if (origin.Count == 0) return null;
        return origin.Count == 1 && IsOwnOrigin(origin.ToString(), r) ? null : Refused;
    }

    /// <summary>
    /// On POST, PUT, PATCH and DELETE any Content-Type other than application/json (parameters allowed) is a 415,
    /// whatever the body: a browser's form always names one, an SDK without a body names none. A body needs JSON
    /// on every method.
    /// </summary>
    public static KeygateError? ContentTypeRefusal(HttpRequest r) => ContentTypeRefusal(r, r.Method);

    private static KeygateError? ContentTypeRefusal(HttpRequest r, string method)
    {
        var contentType = r.Headers.ContentType;
        if (contentType.Count == 0) return JsonBody.HasBody(r) ? KeygateError.UnsupportedMediaType : null;
        var isJson = contentType.Count == 1 && MediaTypeHeaderValue.TryParse(contentType.ToString(), out var media)
            && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
        if (isJson) return null;
        return IsWrite(method) || JsonBody.HasBody(r) ? KeygateError.UnsupportedMediaType : null;
    }

    private static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// The server's own origin is the request's scheme and host as Keygate sees them, which behind a listed proxy
    /// are its X-Forwarded-Proto and X-Forwarded-Host. "null" (sandboxed frames, file: pages) is never our own.
    /// </summary>
    private static bool IsOwnOrigin(string origin, HttpRequest r)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var sent) || origin.EndsWith('/') || sent.PathAndQuery != "/"
            || sent.UserInfo.Length > 0 || sent.Fragment.Length > 0)
            return false;
        if (!r.Host.HasValue || !Uri.TryCreate($"{r.Scheme}://{r.Host.Value}", UriKind.Absolute, out var own)) return false;
        // Scheme, host and port, with a scheme's default port written or not.
        return Uri.Compare(sent, own, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;
    }
}
