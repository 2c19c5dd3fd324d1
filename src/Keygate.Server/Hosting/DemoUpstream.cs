using Keygate.Kernel;
using Keygate.SampleUpstream;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Keygate.Hosting;

/// <summary>
/// The demo's upstream: with --demo and no gateway route configured, the sample upstream (samples/Keygate.SampleUpstream)
/// runs in this process on a loopback port of its own, trusting this Keygate's issuer and JWKS, behind a gateway route
/// /api/v1/{**rest}, so the demo key unlocks real calls with one command. A configured route means the operator has
/// an upstream of their own, and then nothing is added.
/// </summary>
public sealed class DemoUpstream(IServer server, InMemoryConfigProvider routes, IOptions<KeygateOptions> options) : IHostedLifecycleService
{
    private const string RouteId = "keygate-demo";
    private WebApplication? _sample;

    /// <summary>Where the sample listens, once started.</summary>
    public string? Url { get; private set; }

    public static void AddTo(WebApplicationBuilder builder, KeygateOptions o)
    {
        if (!o.Demo.Enabled || builder.Configuration.GetSection("Keygate:Gateway:Routes").GetChildren().Any()) return;
        // A second source of YARP routes beside Keygate:Gateway, filled in once the sample's port is known.
        builder.Services.AddSingleton(new InMemoryConfigProvider([], []));
        builder.Services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<InMemoryConfigProvider>());
        builder.Services.AddSingleton<DemoUpstream>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoUpstream>());
    }

    /// <summary>
    /// Runs once Keygate listens (the server starts before this step), so Keygate's own address is known for the JWKS;
    /// the sample fetches it at the first call it checks anyway.
    /// </summary>
    public async Task StartedAsync(CancellationToken ct)
    {
        var o = options.Value;
        var keygate = OwnAddress(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
        _sample = SampleUpstreamApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Upstream:Issuer"] = o.Gateway.IssuerOf(o),
                ["Upstream:Audience"] = o.Gateway.Audience,
                ["Upstream:JwksUrl"] = keygate + "/.well-known/jwks.json",
                // The JWKS comes from this very process over this machine's own address.
                ["Upstream:RequireHttpsJwks"] = "false",
            });
            // Keygate already says where it listens; the sample's own start-up lines would only confuse.
            b.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            // Keygate's host owns Ctrl+C and SIGTERM and stops the sample with itself (StoppingAsync).
            b.Services.AddSingleton<IHostLifetime, KeygateOwnsTheSignals>();
        });
        _sample.Urls.Add("http://127.0.0.1:0");
        await _sample.StartAsync(ct);
        Url = _sample.Urls.Single();
        routes.Update(
            [new RouteConfig { RouteId = RouteId, ClusterId = RouteId, Match = new RouteMatch { Path = "/api/v1/{**rest}" } }],
            [new ClusterConfig { ClusterId = RouteId, Destinations = new Dictionary<string, DestinationConfig> { ["sample"] = new() { Address = Url } } }]);
    }

    /// <summary>Keygate's first plain-HTTP address, with a wildcard host made loopback.</summary>
    public static string OwnAddress(ICollection<string> addresses)
    {
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The demo upstream needs Keygate to listen on an address.");
        var uri = new Uri(address.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1"));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return new UriBuilder(uri.Scheme, host, uri.Port).Uri.GetLeftPart(UriPartial.Authority);
    }

    public async Task StoppingAsync(CancellationToken ct)
    {
        if (_sample is null) return;
        await _sample.StopAsync(ct);
        await _sample.DisposeAsync();
        _sample = null;
    }

    public Task StartingAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken ct) => Task.CompletedTask;

    private sealed class KeygateOwnsTheSignals : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken ct) => Task.CompletedTask;
        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
