using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Keygate.Kernel;

public static class ClientAddress
{
    /// <summary>The client's address: the socket's, or X-Forwarded-For when the forwarded-headers middleware trusted it.</summary>
    public static string Of(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// True only for a caller on this machine: the socket's peer is a loopback address and so is the client a
    /// listed proxy named, so neither a forged X-Forwarded-For nor a request relayed by a local proxy qualifies.
    /// </summary>
    public static bool IsLoopback(HttpContext ctx)
    {
        var socket = ctx.Features.Get<SocketPeer>() is { } peer ? peer.Address : ctx.Connection.RemoteIpAddress;
        return IsLoopback(socket) && IsLoopback(ctx.Connection.RemoteIpAddress);
    }

    private static bool IsLoopback(IPAddress? a) =>
        a is not null && IPAddress.IsLoopback(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a);

    /// <summary>The socket's peer, kept before the forwarded-headers middleware replaces the connection's address.</summary>
    private sealed record SocketPeer(IPAddress? Address);

    /// <summary>
    /// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are believed only from the proxies listed in
    /// Keygate:KnownProxies, never by default; then the client's address is the proxy's last entry, a request
    /// that reached the proxy over HTTPS counts as HTTPS (Secure cookies, HSTS), and the host the browser asked
    /// for is the server's own origin (cross-site protection).
    /// </summary>
    public static void UseKeygateForwardedHeaders(this WebApplication app, KeygateOptions o)
    {
        var fo = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            ForwardLimit = 1,
        };
        fo.KnownIPNetworks.Clear();
        fo.KnownProxies.Clear();
        foreach (var p in o.KnownProxies)
            if (IPAddress.TryParse(p, out var ip)) fo.KnownProxies.Add(ip);
        if (fo.KnownProxies.Count == 0) return;
        app.Use((ctx, next) =>
        {
            ctx.Features.Set(new SocketPeer(ctx.Connection.RemoteIpAddress));
            return next(ctx);
        });
        app.UseForwardedHeaders(fo);
    }
}
