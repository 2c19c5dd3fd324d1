using System.Security.Cryptography;
using System.Text;
using Keygate.Audit;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Keygate.Sessions;
using Microsoft.Extensions.Options;

namespace Keygate.Ops;

/// <summary>
/// GET /metrics (contract D): the OpenTelemetry Prometheus exporter's text, for loopback callers only, or with
/// Keygate:Metrics:Token set only for "Authorization: Bearer &lt;token&gt;", from anywhere. To anyone else the endpoint
/// does not exist (404); a missing or wrong token is a 401.
/// </summary>
public static class MetricsApi
{
    public static void MapMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<KeygateMetrics>();
        var sessions = app.Services.GetRequiredService<SessionStore>();
        var orgs = app.Services.GetRequiredService<OrgStateCache>();
        var audit = app.Services.GetRequiredService<AuditWriter>();
        metrics.Gauge("keygate.sessions.live", "Legacy sessions this node holds.", () => sessions.Count);
        metrics.Gauge("keygate.orgs.cached", "Org snapshots this node holds in memory.", () => orgs.Count);
        metrics.ObservedCounter("keygate.audit.dropped", "Audit events dropped because the audit queue was full.", () => audit.Dropped);
        var redisMetering = app.Services.GetRequiredService<IUsageCounter>() as RedisUsageCounter;
        metrics.Gauge("keygate.meter.redis_fallback_active", "1 while metering counts in the database because Redis is unreachable (clusters only; 0 otherwise).",
            () => redisMetering?.FallbackActive == true ? 1 : 0);

        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
        {
            if (Refusal(http) is { } refusal) await ErrorResponses.Problem(refusal).ExecuteAsync(http);
            else await next(http);
        }), optionsName: null).ExcludeFromDescription()
            // The exporter maps every method; contract D has GET only (the bad-input suite's route table holds it to that).
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }

    private static KeygateError? Refusal(HttpContext http)
    {
        var token = http.RequestServices.GetRequiredService<IOptions<KeygateOptions>>().Value.Metrics.Token;
        if (string.IsNullOrEmpty(token)) return ClientAddress.IsLoopback(http) ? null : KeygateError.NotFound;
        return HasBearer(http.Request, token) ? null : KeygateError.Unauthorized;
    }

    /// <summary>Compared in constant time over SHA-256 digests, so neither the token nor its length leaks through timing.</summary>
    private static bool HasBearer(HttpRequest r, string token) => CryptographicOperations.FixedTimeEquals(
        SHA256.HashData(Encoding.UTF8.GetBytes(r.Headers.Authorization.ToString())),
        SHA256.HashData(Encoding.UTF8.GetBytes("Bearer " + token)));
}
