using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Keygate.Secrets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using System.Net.Http.Headers;

namespace Keygate.Sandbox;

/// <summary>
/// Sandbox file submission (contract A6): the org's sandbox token in the query, the raw file as the body,
/// streamed to the configured upstream and its answer relayed. Checks run in the contract's order.
/// </summary>
public static class SandboxApi
{
    public const string UpstreamClient = "sandbox-upstream";
    private const string TokenParameter = "api_token";

    public static readonly KeygateError InvalidToken = new(401, "INVALID_API_TOKEN", "The api_token is not a valid sandbox submission key.");
    public static readonly KeygateError FileTooLarge = new(413, "FILE_TOO_LARGE", "The file is larger than the submission limit.");
    public static readonly KeygateError NotConfigured = new(503, "SANDBOX_UPSTREAM_NOT_CONFIGURED", "No sandbox is configured to receive submissions.");
    public static readonly KeygateError Unavailable = new(502, "SANDBOX_UPSTREAM_UNAVAILABLE", "The sandbox could not be reached; try again later.");
    private static readonly KeygateError Unreadable = new(400, "INVALID_INPUT_ARGUMENT", "The file could not be read completely.");

    public static IServiceCollection AddSandbox(this IServiceCollection services)
    {
        services.AddHttpClient(UpstreamClient, (sp, c) =>
                c.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<KeygateOptions>>().Value.Sandbox.UpstreamTimeoutSeconds))
            // A streamed body cannot be sent twice, so no redirects; and one org's cookies must never reach another's upload.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddTokenSafeRequestLogging();
        return services;
    }

    /// <summary>On the legacy surface, but without its JSON-only filter: the body is a file of any type.</summary>
    public static void MapSandbox(this RouteGroupBuilder legacyRoutes) =>
        legacyRoutes.MapPost("/zscsb/submit", Submit).WithName("SubmitSandboxFile")
            .WithSummary("Submit a file to the sandbox; the upstream's answer is relayed")
            .SecuredBy(ApiDocs.SandboxToken).DocumentsBody<Stream, RouteHandlerBuilder>("application/octet-stream")
            .WithMetadata(new ProducesResponseTypeMetadata(200, typeof(Stream), ["application/octet-stream"]) { Description = "The sandbox's answer, relayed as it came." })
            .RefusesLegacy(401, "INVALID_API_TOKEN").RefusesLegacy(403, "API_KEY_DISABLED", "API_SUBSCRIPTION_REQUIRED", "SUBSCRIPTION_EXPIRED", "ORG_SUSPENDED", "ACCESS_DENIED")
            .RefusesLegacy(413, "FILE_TOO_LARGE").RefusesLegacy(429, "RATE_LIMIT_EXCEEDED")
            .RefusesLegacy(502, "SANDBOX_UPSTREAM_UNAVAILABLE").RefusesLegacy(503, "SANDBOX_UPSTREAM_NOT_CONFIGURED");

    private static async Task<Results<UpstreamRelay, JsonHttpResult<LegacyError>>> Submit(
        HttpContext http, AppDbContext db, KeyVault vault, OrgStateCache orgs, IUsageCounter usage, IHttpClientFactory clients,
        IOptions<KeygateOptions> options, KeygateMetrics metrics, TimeProvider clock, ILoggerFactory logs)
    {
        // LimitedReadStream enforces the file limit, so Kestrel's own (30 MB by default) is lifted: a file between
        // the two is not cut off, and after any early refusal Kestrel drains the unread body (for at most its
        // 5 s drain timeout) instead of closing at once, so a client that sends the whole file before reading
        // the answer sees our 401/403/413/429 rather than a reset connection.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        var log = logs.CreateLogger("Keygate.Sandbox");
        var result = await SubmitCoreAsync(http, db, vault, orgs, usage, clients, options.Value.Sandbox, clock, log);
        metrics.SandboxSubmissions.Add(1, KeygateMetrics.Tag("outcome", result.Result switch
        {
            UpstreamRelay => "FORWARDED",
            JsonHttpResult<LegacyError> e => e.Value!.Code,
            _ => "UNKNOWN",
        }));
        return result;
    }

    private static async Task<Results<UpstreamRelay, JsonHttpResult<LegacyError>>> SubmitCoreAsync(
        HttpContext http, AppDbContext db, KeyVault vault, OrgStateCache orgs, IUsageCounter usage, IHttpClientFactory clients,
        SandboxOptions o, TimeProvider clock, ILogger log)
    {
        var tokens = http.Request.Query[TokenParameter];
        var org = tokens.Count == 1 ? await SandboxToken.FindOrgAsync(tokens[0], db, vault, orgs, http.RequestAborted) : null;
        if (org?.Sandbox is not { } key) return ErrorResponses.Legacy(InvalidToken);

        var now = clock.Now();
        if (org.RefusalOf(key, now) is { } refusal) return ErrorResponses.Legacy(refusal);
        if (http.Request.ContentLength > o.MaxFileBytes) return ErrorResponses.Legacy(FileTooLarge);

        var decision = await usage.TakeSandboxAsync(org.OrgId, org.Limits, now);
        if (decision.Outcome != MeterOutcome.Allowed) return ErrorResponses.RateLimited(decision.RateLimitError(), http);

        // Only forwarded files use up quota: every other way out gives the submission back.
        var forwarded = false;
        try
        {
            if (string.IsNullOrWhiteSpace(o.UpstreamUrl)) return ErrorResponses.Legacy(NotConfigured);
            var answer = await ForwardAsync(http, o, clients, log);
            if (answer.Error is { } error) return ErrorResponses.Legacy(error);
            forwarded = true;
            return new UpstreamRelay(answer.Value!);
        }
        finally
        {
            if (!forwarded) await usage.ReturnSandboxAsync(org.OrgId, now);
        }
    }

    private static async Task<Result<HttpResponseMessage>> ForwardAsync(HttpContext http, SandboxOptions o, IHttpClientFactory clients, ILogger log)
    {
        var request = http.Request;
        var body = new LimitedReadStream(request.Body, o.MaxFileBytes);
        var content = new StreamContent(body);
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)) content.Headers.ContentType = type;
        if (request.ContentLength is { } length) content.Headers.ContentLength = length;
        var message = new HttpRequestMessage(HttpMethod.Post, UpstreamUri(o.UpstreamUrl!, request.Query)) { Content = content };
        try
        {
            return await clients.CreateClient(UpstreamClient).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        }
        catch (Exception) when (body.Exceeded || body.ReadError is not null)
        {
            message.Dispose();
            return body.Exceeded ? FileTooLarge : Unreadable;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            message.Dispose();
            // The exception names the upstream's address, which carries no token.
            log.LogWarning(e, "The sandbox upstream did not answer");
            return Unavailable;
        }
    }

    /// <summary>The upstream URL with the client's other query parameters (force=1 and the like), never the token.</summary>
    public static string UpstreamUri(string upstreamUrl, IQueryCollection query) =>
        QueryHelpers.AddQueryString(upstreamUrl, query
            .Where(q => !string.Equals(q.Key, TokenParameter, StringComparison.OrdinalIgnoreCase))
            .SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v))));
}
