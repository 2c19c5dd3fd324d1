using System.Security.Cryptography;
using System.Text;
using Keygate.Audit;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Sessions;
using Microsoft.Extensions.Options;

namespace Keygate.Ops;

/// <summary>
/// GET /metrics (contract D): Prometheus text, for loopback callers only, or with Keygate:Metrics:Token set only
/// for "Authorization: Bearer &lt;token&gt;", from anywhere. To anyone else the endpoint does not exist (404); a
/// missing or wrong token is a 401.
/// </summary>
public static class MetricsApi
{
    public static void MapMetrics(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", (HttpContext http, KeygateMetrics metrics, SessionStore sessions, OrgStateCache orgs, AuditWriter audit,
            IOptions<KeygateOptions> options) =>
        {
            var token = options.Value.Metrics.Token;
            if (string.IsNullOrEmpty(token))
            {
                if (!ClientAddress.IsLoopback(http)) return (IResult)ErrorResponses.Problem(KeygateError.NotFound);
            }
            else if (!HasBearer(http.Request, token))
                return ErrorResponses.Problem(KeygateError.Unauthorized);
            return TypedResults.Text(metrics.Render(sessions.Count, orgs.Count, audit.Dropped), "text/plain; version=0.0.4");
        }).ExcludeFromDescription();

    /// <summary>Compared in constant time over SHA-256 digests, so neither the token nor its length leaks through timing.</summary>
    private static bool HasBearer(HttpRequest r, string token) => CryptographicOperations.FixedTimeEquals(
        SHA256.HashData(Encoding.UTF8.GetBytes(r.Headers.Authorization.ToString())),
        SHA256.HashData(Encoding.UTF8.GetBytes("Bearer " + token)));
}
