using System.Diagnostics.Metrics;
using Keygate.Cluster;
using Keygate.Kernel;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Keygate.Ops;

/// <summary>
/// The OpenTelemetry SDK (contract D): Keygate's meter always (it is what /metrics shows); with Keygate:Telemetry:Enabled
/// (the default) also ASP.NET Core's, HttpClient's, the runtime's and Npgsql's metrics. Metrics and traces also go
/// over OTLP when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set. Without an OTLP endpoint no trace is recorded, so a
/// request pays nothing for spans nobody reads.
/// </summary>
public static class TelemetrySetup
{
    private static readonly (string Name, string Renamed)[] RuntimeRenames =
    [
        ("dotnet.assembly.count", "dotnet.assemblies"),
        ("dotnet.process.cpu.count", "dotnet.process.cpus"),
        ("dotnet.thread_pool.thread.count", "dotnet.thread_pool.threads"),
        ("dotnet.timer.count", "dotnet.timers"),
    ];

    /// <summary>What the HttpClient and DNS metrics may keep: their peer address, port and host name could name an org's webhook receiver.</summary>
    private static readonly string[] ClientTags = ["http.request.method", "http.response.status_code", "error.type", "url.scheme", "network.protocol.version"];

    /// <summary>
    /// What the request-duration histogram keeps: route, method, status and error (docs/operations.md). The scheme and the
    /// protocol version say nothing an operator acts on, and every tag is looked up for every request (issue 18).
    /// </summary>
    private static readonly string[] ServerTags = ["http.route", "http.request.method", "http.response.status_code", "error.type"];

    /// <summary>What Npgsql's metrics may keep: its pool name is the connection string (host, user, database).</summary>
    private static readonly string[] DatabaseTags = ["db.client.connection.state"];

    /// <summary>
    /// The SDK listens to every meter of a name, whoever created it; with two hosts in one process (the tests, a
    /// cluster of nodes) each would count the other's calls. Meters another host's factory made are dropped here.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> HostsOwn(IMeterFactory own) => i =>
        i.Meter.Scope is IMeterFactory f && f != own ? MetricStreamConfiguration.Drop
        : i.Meter.Name is "System.Net.Http" or "System.Net.NameResolution" ? new MetricStreamConfiguration { TagKeys = ClientTags }
        : i.Meter.Name is "Microsoft.AspNetCore.Hosting" && i.Name == "http.server.request.duration" ? new MetricStreamConfiguration { TagKeys = ServerTags }
        // Per-request counters left out: every update is a lookup in the SDK's aggregator (about a tenth of a legacy
        // call's own CPU with the histogram above, issue 18; the memory pool's, updated on every block rented and
        // returned, 3 % alone), and none says what the histogram's route and status, Kestrel's connection counts and
        // the pool's allocated and evicted counts (kept, rare) do not.
        : i.Name is "http.server.active_requests" or "aspnetcore.routing.match_attempts"
            or "aspnetcore.memory_pool.rented" or "aspnetcore.memory_pool.pooled" ? MetricStreamConfiguration.Drop
        // promtool refuses "_count" on a gauge (as for the runtime's renames above).
        : i.Meter.Name is "Npgsql" ? new MetricStreamConfiguration
        {
            Name = i.Name == "db.client.connection.count" ? "db.client.connections" : null, TagKeys = DatabaseTags,
        }
        : null;

    public static void AddKeygateTelemetry(this IServiceCollection services, IConfiguration configuration, KeygateOptions keygate)
    {
        services.AddSingleton<KeygateMetrics>();
        var full = keygate.Telemetry.Enabled;
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("keygate"));
        otel.WithMetrics(m =>
        {
            m.AddMeter(KeygateMetrics.MeterName);
            if (full)
            {
                m.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation().AddNpgsqlInstrumentation();
                // Prometheus keeps "_count" for histograms (promtool refuses it on a gauge), so these runtime gauges
                // get plural names instead.
                foreach (var (name, renamed) in RuntimeRenames) m.AddView(name, renamed);
            }
            m.AddPrometheusExporter(o =>
            {
                // Every scrape sees the counts as they are (the exporter's default keeps an answer for 300 ms).
                o.ScrapeResponseCacheDurationMilliseconds = 0;
                // Series keep the names and labels they had before OpenTelemetry (dashboards and the bench read them).
                o.ScopeInfoEnabled = false;
            });
            if (otlp) m.AddOtlpExporter();
        });
        services.ConfigureOpenTelemetryMeterProvider((sp, b) => b.AddView(HostsOwn(sp.GetRequiredService<IMeterFactory>())));
        if (!full || !otlp) return;
        otel.WithTracing(t => t
            .AddSource(KeygateTrace.SourceName)
            .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/metrics"))
            .AddHttpClientInstrumentation()
            .AddNpgsql()
            .AddRedisInstrumentation()
            .ConfigureRedisInstrumentation((sp, redis) =>
            {
                if (sp.GetService<RedisLink>() is { } link) redis.AddConnection(link.Connection);
            })
            .AddOtlpExporter());
    }
}
