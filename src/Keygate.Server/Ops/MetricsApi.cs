using System.Security.Cryptography;
using System.Text;
using Keygate.Audit;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Sessions;
using Microsoft.Extensions.Options;

namespace Keygate.Ops;

/// <summary>GET /metrics (contract D): Prometheus text, behind Keygate:Metrics:Token when one is set.</summary>
public static class MetricsApi
{
    public static void MapMetrics(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", (HttpContext http, KeygateMetrics metrics, SessionStore sessions, OrgStateCache orgs, AuditWriter audit,
            IOptions<KeygateOptions> options) =>
        {
            var token = options.Value.Metrics.Token;
            if (!string.IsNullOrEmpty(token))
            {
                var sent = http.Request.Headers.Authorization.ToString();
                var expected = "Bearer " + token;
                if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(expected)))
                    return (IResult)ErrorResponses.Problem(KeygateError.Unauthorized);
            }
            return TypedResults.Text(metrics.Render(sessions.Count, orgs.Count, audit.Dropped), "text/plain; version=0.0.4");
        }).ExcludeFromDescription();
}
