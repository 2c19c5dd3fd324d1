using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Keygate;

public static class ClientAddress
{
    /// <summary>The client's address: the socket's, or X-Forwarded-For when the forwarded-headers middleware trusted it.</summary>
    public static string Of(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>X-Forwarded-For is believed only from the proxies listed in Keygate:KnownProxies, never by default.</summary>
    public static void UseKeygateForwardedHeaders(this WebApplication app, KeygateOptions o)
    {
        var fo = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = 1 };
        fo.KnownIPNetworks.Clear();
        fo.KnownProxies.Clear();
        foreach (var p in o.KnownProxies)
            if (IPAddress.TryParse(p, out var ip)) fo.KnownProxies.Add(ip);
        if (fo.KnownProxies.Count > 0) app.UseForwardedHeaders(fo);
    }
}
