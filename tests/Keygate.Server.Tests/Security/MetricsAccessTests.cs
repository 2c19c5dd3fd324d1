using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Keygate.Tests;

/// <summary>
/// Contract D v3: /metrics answers loopback callers only (judged by the socket, not by a header a client can write),
/// unless Keygate:Metrics:Token is set, and then only "Authorization: Bearer &lt;token&gt;". To others without a token
/// configured the endpoint does not exist (404); a missing or wrong token is 401 UNAUTHORIZED.
/// </summary>
public sealed class MetricsAccessTests
{
    private const string Token = "metrics-secret-0123456789";
    private static readonly Dictionary<string, string?> BehindLocalProxy = new() { ["Keygate:KnownProxies:0"] = "127.0.0.1", ["Keygate:KnownProxies:1"] = "::1" };

    /// <summary>One of this machine's own addresses that is not loopback: a request to it arrives from it, over a real socket.</summary>
    private static IPAddress OwnNonLoopbackAddress()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.SkipWhen(address is null, "This machine has no non-loopback IPv4 address to call itself from.");
        return address!;
    }

    private static async Task<HttpResponseMessage> GetMetricsAsync(KeygateApp app, IPAddress? via = null, string? forwardedFor = null, string? bearer = null)
    {
        var port = app.BaseAddress.Port;
        using var c = new HttpClient { BaseAddress = new Uri($"http://{(via is null ? "127.0.0.1" : via.ToString())}:{port}") };
        if (forwardedFor is not null) c.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        if (bearer is not null) c.DefaultRequestHeaders.Add("Authorization", "Bearer " + bearer);
        return await c.GetAsync("/metrics");
    }

    private static async Task AssertMetricsAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("keygate_sessions_live", await r.Content.ReadAsStringAsync());
    }

    private static KeygateApp Started(Dictionary<string, string?> settings)
    {
        var app = KeygateApp.With(settings);
        app.StartKestrel(allInterfaces: true);
        return app;
    }

    [Fact]
    public async Task WithoutATokenOnlyLoopbackCallersGetMetricsAndOthersA404()
    {
        var other = OwnNonLoopbackAddress();
        await using var app = Started([]);
        await AssertMetricsAsync(await GetMetricsAsync(app));
        await (await GetMetricsAsync(app, other)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // A header claiming loopback is a client's word; no proxy is listed, so only the socket counts.
        await (await GetMetricsAsync(app, other, forwardedFor: "127.0.0.1")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task ThroughALocalProxyARemoteClientIsNotALoopbackCaller()
    {
        var other = OwnNonLoopbackAddress();
        await using var app = Started(BehindLocalProxy);
        // nginx on this machine relaying a request from the internet: the socket is loopback, the caller is not.
        await (await GetMetricsAsync(app, forwardedFor: "203.0.113.9")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertMetricsAsync(await GetMetricsAsync(app));
        // A caller that is not a listed proxy cannot claim to be loopback either.
        await (await GetMetricsAsync(app, other, forwardedFor: "127.0.0.1")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task WithATokenOnlyTheBearerGetsMetricsFromAnywhereAndOthersA401()
    {
        var other = OwnNonLoopbackAddress();
        await using var app = Started(new() { ["Keygate:Metrics:Token"] = Token });
        foreach (var via in new[] { null, other })
        {
            await (await GetMetricsAsync(app, via)).AssertError(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            await (await GetMetricsAsync(app, via, bearer: Token + "x")).AssertError(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            await (await GetMetricsAsync(app, via, bearer: Token[..^1])).AssertError(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            await AssertMetricsAsync(await GetMetricsAsync(app, via, bearer: Token));
        }
    }
}
