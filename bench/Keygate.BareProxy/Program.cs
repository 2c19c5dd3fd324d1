// The gateway scenario's bare proxy: YARP (the version Keygate runs) forwarding /api/v1/{**rest} to the upstream
// given as --Upstream=http://host:port, with YARP's default pipeline and transforms and nothing else: no auth, no
// metering. Keygate's gateway / this proxy, measured in one run, is what Keygate's step costs.
using Yarp.ReverseProxy.Configuration;

var builder = WebApplication.CreateBuilder(args);
var upstream = builder.Configuration["Upstream"] ?? throw new InvalidOperationException("Set --Upstream=http://host:port.");
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "api", ClusterId = "upstream", Match = new RouteMatch { Path = "/api/v1/{**rest}" } }],
    [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = upstream } } }]);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
