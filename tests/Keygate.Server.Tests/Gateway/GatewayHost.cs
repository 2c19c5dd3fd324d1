using System.Net;
using System.Net.Sockets;

namespace Keygate.Tests;

/// <summary>
/// Keygate on a real loopback socket with its gateway in front of the sample upstream on another, the sample trusting
/// Keygate's own /.well-known/jwks.json. Keygate's port is chosen first, since each side must know the other's address
/// before it starts. Keygate's clock starts at the real time (or <c>clockOffset</c> from it), because the sample checks the
/// token's expiry against the real time.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string Issuer = "http://keygate.test";

    public required KeygateApp App { get; init; }
    public required SampleUpstreamHost Upstream { get; init; }

    /// <param name="withUpstream">More settings that name the sample's address (known only once it listens).</param>
    public static async Task<GatewayHost> StartAsync(Dictionary<string, string?>? settings = null, string? upstreamUrl = null,
        Func<string, Dictionary<string, string?>>? withUpstream = null, TimeSpan clockOffset = default)
    {
        var port = FreePort();
        var upstream = await SampleUpstreamHost.StartBehindAsync(Issuer, $"http://127.0.0.1:{port}/.well-known/jwks.json");
        var all = new Dictionary<string, string?>
        {
            ["Keygate:Gateway:Issuer"] = Issuer,
            ["Keygate:Gateway:Routes:api:ClusterId"] = "sample",
            ["Keygate:Gateway:Routes:api:Match:Path"] = "/api/v1/{**catch-all}",
            ["Keygate:Gateway:Clusters:sample:Destinations:one:Address"] = upstreamUrl ?? upstream.Url,
        };
        foreach (var (k, v) in settings ?? []) all[k] = v;
        foreach (var (k, v) in withUpstream?.Invoke(upstream.Url) ?? []) all[k] = v;
        var app = KeygateApp.With(all);
        app.Clock.SetUtcNow(DateTimeOffset.UtcNow + clockOffset);
        app.StartKestrel(port);
        return new GatewayHost { App = app, Upstream = upstream };
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
