using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Keygate.Kernel;

public static class ClientAddress
{
    /// <summary>The client's address: the socket's, or X-Forwarded-For when the forwarded-headers middleware trusted it.</summary>
    public static string Of(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// X-Forwarded-For and X-Forwarded-Proto are believed only from the proxies listed in Keygate:KnownProxies, never
    /// by default; then the client's address is the proxy's last entry, and a request that reached the proxy over
    /// HTTPS counts as HTTPS, so cookies get their Secure attribute behind TLS that ends at the proxy.
    /// </summary>
    public static void UseKeygateForwardedHeaders(this WebApplication app, KeygateOptions o)
    {
        var fo = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        fo.KnownIPNetworks.Clear();
        fo.KnownProxies.Clear();
        foreach (var p in o.KnownProxies)
            if (IPAddress.TryParse(p, out var ip)) fo.KnownProxies.Add(ip);
        if (fo.KnownProxies.Count > 0) app.UseForwardedHeaders(fo);
    }
}
