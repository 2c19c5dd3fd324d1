using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Keygate.Kernel;

/// <summary>
/// The "Keygate" meter (contract D; docs/operations.md lists every instrument). Tags are bounded sets only: outcomes,
/// actions, error codes; never an organization, a user or anything secret. The meter comes from the host's
/// <see cref="IMeterFactory"/>, so two hosts in one process (the tests) keep their own counts. Hot-path callers use
/// the precomputed tags below: an Add then allocates nothing, and costs next to nothing while nobody listens.
/// </summary>
public sealed class KeygateMetrics
{
    public const string MeterName = "Keygate";

    public KeygateMetrics(IMeterFactory factory)
    {
        Meter = factory.Create(MeterName);
        Logins = Meter.CreateCounter<long>("keygate.legacy.logins", description: "Legacy logins (POST /api/v1/auth) by outcome: SUCCESS or the error code.");
        LoginDuration = Meter.CreateHistogram("keygate.login.duration", "s", "Time to answer a legacy login, by outcome.", advice: SecondsAdvice);
        Changes = Meter.CreateCounter<long>("keygate.changes", description: "Committed key and organization changes, by action (the audit action).");
        ChangeDuration = Meter.CreateHistogram("keygate.change.duration", "s", "Time of a committed key or organization change, commit and publish included, by action.", advice: SecondsAdvice);
        Refusals = Meter.CreateCounter<long>("keygate.refusals", description: "Legacy and gateway calls the session gate refused, by error code.");
        ThresholdDisables = Meter.CreateCounter<long>("keygate.threshold.disables", description: "Cloud Service keys Keygate disabled because their org passed its call threshold.");
        Warnings = Meter.CreateCounter<long>("keygate.usage.warnings", description: "Orgs that passed their warning level in a threshold window (once per window).");
        WebhookDeliveries = Meter.CreateCounter<long>("keygate.webhook.deliveries", description: "Webhook delivery attempts by outcome: delivered, failed or gave_up.");
        GatewayForwards = Meter.CreateCounter<long>("keygate.gateway.forwards", description: "Gateway calls forwarded to an upstream, by outcome: ok, upstream_error (5xx), unavailable, timeout or aborted.");
        UpstreamDuration = Meter.CreateHistogram("keygate.upstream.duration", "s", "Time from forwarding a gateway call to the end of the upstream's answer, by outcome.", advice: SecondsAdvice);
        SandboxSubmissions = Meter.CreateCounter<long>("keygate.sandbox.submissions", description: "Sandbox submissions by outcome.");
        ClusterVersionReads = Meter.CreateCounter<long>("keygate.cluster.version_reads", description: "Lone reads of an org's version from Redis (most ride with the call's count).");
        ClusterVersionDatabaseReads = Meter.CreateCounter<long>("keygate.cluster.version_database_reads", description: "Reads of an org's version from the database (Redis had none or was not trusted).");
        ClusterPublishFallbacks = Meter.CreateCounter<long>("keygate.cluster.publish_fallbacks", description: "Change publications that could not reach Redis (peers see the change through the database).");
        MeterRedisFallbacks = Meter.CreateCounter<long>("keygate.meter.redis_fallbacks", description: "Times metering fell back from Redis to the database.");
    }

    public Meter Meter { get; }
    public Counter<long> Logins { get; }
    public Histogram<double> LoginDuration { get; }
    public Counter<long> Changes { get; }
    public Histogram<double> ChangeDuration { get; }
    public Counter<long> Refusals { get; }
    public Counter<long> ThresholdDisables { get; }
    public Counter<long> Warnings { get; }
    public Counter<long> WebhookDeliveries { get; }
    public Counter<long> GatewayForwards { get; }
    public Histogram<double> UpstreamDuration { get; }
    public Counter<long> SandboxSubmissions { get; }
    public Counter<long> ClusterVersionReads { get; }
    public Counter<long> ClusterVersionDatabaseReads { get; }
    public Counter<long> ClusterPublishFallbacks { get; }
    public Counter<long> MeterRedisFallbacks { get; }

    /// <summary>A gauge read at each scrape (live sessions, cached orgs, …); the reader must be cheap and thread-safe.</summary>
    public void Gauge(string name, string description, Func<long> read) => Meter.CreateObservableGauge(name, read, description: description);

    /// <summary>A counter whose total another component keeps (the audit queue's drops).</summary>
    public void ObservedCounter(string name, string description, Func<long> read) => Meter.CreateObservableCounter(name, read, description: description);

    /// <summary>One tag, for a value from a bounded set. A cached instance per value keeps hot paths allocation-free.</summary>
    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    /// <summary>Seconds since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static double SecondsSince(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;

    /// <summary>Buckets from 1 ms to 10 s: a login hashes a password (tens of ms), a gateway call waits on its upstream.</summary>
    private static readonly InstrumentAdvice<double> SecondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };
}

/// <summary>
/// The "Keygate" activity source: spans for logins, key changes (commit and publish as children), refusals of the
/// session gate, gateway forwards and webhook deliveries. Tags never carry a secret; ids of orgs are fine in a trace
/// (traces are per request and not aggregated), labels of metrics never carry them.
/// </summary>
public static class KeygateTrace
{
    public const string SourceName = "Keygate";
    public static readonly ActivitySource Source = new(SourceName);
}
