using System.Globalization;
using Keygate.Identity;
using Keygate.Kernel;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Keygate.Gateway;

/// <summary>
/// What the upstream receives and what the client gets back (contract A7): the caller's credentials and any
/// X-Keygate-* it made up are removed; the identity token and the org and admin ids are added; Set-Cookie never comes
/// back; a failure of the upstream is a {code,message} 502, 504 or 413.
/// </summary>
public static class GatewayForwarding
{
    public static readonly KeygateError Unavailable = new(502, "UPSTREAM_UNAVAILABLE", "The upstream service could not be reached.");
    public static readonly KeygateError TimedOut = new(504, "UPSTREAM_TIMEOUT", "The upstream service did not answer in time.");

    public static void Transforms(TransformBuilderContext builder)
    {
        // Resolved once per route build, not per call (the profile in bench/README.md).
        var tokens = builder.Services.GetRequiredService<IdentityTokens>();
        builder.AddRequestTransform(async ctx =>
        {
            var headers = ctx.ProxyRequest.Headers;
            headers.Remove("Cookie");
            headers.Remove("JSessionID");
            headers.Remove("Authorization");
            // Enumerating the headers themselves: Headers.Keys would copy every name into a new list on each call.
            foreach (var (name, _) in ctx.HttpContext.Request.Headers)
                if (name.StartsWith("X-Keygate-", StringComparison.OrdinalIgnoreCase)) headers.Remove(name);
            var caller = ctx.HttpContext.RequestServices.GetRequiredService<LegacyCaller>();
            headers.TryAddWithoutValidation("Authorization", await tokens.BearerAsync(caller.Session, caller.Org));
            headers.TryAddWithoutValidation("X-Keygate-Org-Id", caller.Org.OrgId.ToString(CultureInfo.InvariantCulture));
            headers.TryAddWithoutValidation("X-Keygate-Admin-Id", caller.Session.AccountId.ToString(CultureInfo.InvariantCulture));
        });
        builder.AddResponseTransform(ctx =>
        {
            ctx.HttpContext.Response.Headers.Remove("Set-Cookie");
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// The forward itself, in a span (when traces are recorded) and counted by outcome with its duration. The
    /// forwarder sends the current trace context to the upstream as W3C traceparent.
    /// </summary>
    public static async Task ForwardAsync(HttpContext http, string routeId, Func<Task> next, KeygateMetrics metrics)
    {
        using var span = KeygateTrace.Source.StartActivity("keygate.gateway.forward", System.Diagnostics.ActivityKind.Internal);
        span?.SetTag("keygate.route", routeId);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await next();
        var outcome = KeygateMetrics.Tag("outcome", OutcomeOf(http));
        metrics.GatewayForwards.Add(1, outcome);
        metrics.UpstreamDuration.Record(KeygateMetrics.SecondsSince(started), outcome);
        span?.SetTag("keygate.outcome", outcome.Value);
        await AnswerFailureAsync(http);
    }

    /// <summary>The outcome label of a forward: a bounded set (docs/operations.md).</summary>
    private static string OutcomeOf(HttpContext http) => http.Features.Get<IForwarderErrorFeature>()?.Error switch
    {
        null => http.Response.StatusCode >= 500 ? "upstream_error" : "ok",
        ForwarderError.RequestTimedOut => "timeout",
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient => "aborted",
        _ => "unavailable",
    };

    /// <summary>After the forwarder: a failure it left without a body gets the contract's answer.</summary>
    public static async Task AnswerFailureAsync(HttpContext http)
    {
        if (http.Features.Get<IForwarderErrorFeature>() is not { } failure || http.Response.HasStarted) return;
        var error = failure.Error switch
        {
            ForwarderError.RequestTimedOut => TimedOut,
            _ when failure.Exception is BadHttpRequestException { StatusCode: 413 } => GatewayStep.RequestTooLarge,
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => null,
            ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient => null,
            _ => Unavailable,
        };
        if (error is null) return;
        http.Response.Clear();
        http.RequestServices.GetRequiredService<LegacyCaller>().Rate.WriteTo(http.Response);
        await GatewayStep.RefuseAsync(http, error);
    }
}

/// <summary>Gives every cluster that names no timeout of its own Keygate:Gateway:TimeoutSeconds.</summary>
public sealed class GatewayTimeoutDefault(Microsoft.Extensions.Options.IOptions<KeygateOptions> options) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken ct) =>
        ValueTask.FromResult(cluster.HttpRequest?.ActivityTimeout is not null ? cluster : cluster with
        {
            HttpRequest = (cluster.HttpRequest ?? new ForwarderRequestConfig()) with
            {
                ActivityTimeout = TimeSpan.FromSeconds(options.Value.Gateway.TimeoutSeconds),
            },
        });

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken ct) => ValueTask.FromResult(route);
}
