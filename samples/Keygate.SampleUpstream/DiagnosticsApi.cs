using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>What the sample saw of a request: enough for the gateway's tests to check what it forwarded.</summary>
public sealed record SeenRequest(string Method, string Path, string Query, string[] HeaderNames, bool CookiePresent,
    string? AuthorizationScheme, bool Authenticated, string? Subject, string? OrgId, string? TokenId,
    Dictionary<string, string> KeygateHeaders, Dictionary<string, string> ForwardedHeaders, string? Traceparent);

public sealed record UploadReceipt(long Received, string Sha256);

public sealed record Slept(int Ms);

/// <summary>The last request, for <c>GET /_diag/last-request</c>.</summary>
public sealed class RequestRecorder
{
    public volatile SeenRequest? Last;
}

/// <summary>
/// Test-only endpoints, mapped when Upstream:Diagnostics is true. Under /_diag they need no token (a test reads them
/// directly); under /api/v1/_diag they need it like the rest of the API, so they can be reached through the gateway.
/// </summary>
public static class DiagnosticsApi
{
    public const long DefaultDownloadBytes = 50L * 1024 * 1024;

    public static void UseRequestRecorder(this WebApplication app) => app.Use(async (http, next) =>
    {
        if (!http.Request.Path.Value!.EndsWith("/_diag/last-request", StringComparison.Ordinal))
            http.RequestServices.GetRequiredService<RequestRecorder>().Last = Describe(http);
        await next(http);
    });

    public static void MapDiagnostics(this WebApplication app)
    {
        Map(app.MapGroup("/_diag").AllowAnonymous());
        Map(app.MapGroup("/api/v1/_diag"));
    }

    private static void Map(RouteGroupBuilder diag)
    {
        diag.ExcludeFromDescription();
        diag.MapGet("/last-request", Results<Ok<SeenRequest>, NotFound> (RequestRecorder recorder) =>
            recorder.Last is { } last ? TypedResults.Ok(last) : TypedResults.NotFound());
        diag.MapGet("/download", Download);
        diag.MapPost("/upload", Upload);
        diag.MapPut("/upload", Upload);
        diag.MapGet("/slow", async (int? ms, TimeProvider clock, CancellationToken ct) =>
        {
            var wait = Math.Clamp(ms ?? 1000, 0, 600_000);
            await Task.Delay(TimeSpan.FromMilliseconds(wait), clock, ct);
            return TypedResults.Ok(new Slept(wait));
        });
    }

    /// <summary>
    /// <c>?bytes=</c> (default 50 MiB, at most 4 GiB) of a fixed pattern, the byte at offset i being i % 251, written as it
    /// goes: never held whole, so a gateway that buffers shows up in its own memory, not here.
    /// </summary>
    private static PushStreamHttpResult Download(HttpContext http, long? bytes)
    {
        var total = Math.Clamp(bytes ?? DefaultDownloadBytes, 0, 4L * 1024 * 1024 * 1024);
        http.Response.ContentLength = total;
        return TypedResults.Stream(async body =>
        {
            // 256 whole periods of the pattern, so every chunk starts where the pattern does.
            var chunk = new byte[251 * 256];
            for (var i = 0; i < chunk.Length; i++) chunk[i] = (byte)(i % 251);
            for (long sent = 0; sent < total;)
            {
                var n = (int)Math.Min(chunk.Length, total - sent);
                await body.WriteAsync(chunk.AsMemory(0, n), http.RequestAborted);
                sent += n;
            }
        }, "application/octet-stream");
    }

    /// <summary>Reads the body as a stream, however large, and answers how many bytes came and their SHA-256.</summary>
    private static async Task<Ok<UploadReceipt>> Upload(HttpRequest request, CancellationToken ct)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        return TypedResults.Ok(new UploadReceipt(total, Convert.ToHexStringLower(sha.GetHashAndReset())));
    }

    private static SeenRequest Describe(HttpContext http)
    {
        var r = http.Request;
        Dictionary<string, string> Headers(Func<string, bool> which) =>
            r.Headers.Where(h => which(h.Key)).ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var user = http.User;
        return new SeenRequest(r.Method, r.Path.Value ?? "", r.QueryString.Value ?? "", r.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase).ToArray(),
            r.Headers.ContainsKey("Cookie"), r.Headers.Authorization.ToString().Split(' ')[0] is { Length: > 0 } scheme ? scheme : null,
            user.Identity?.IsAuthenticated == true, user.FindFirst(Claims.Subject)?.Value, user.FindFirst(Claims.OrgId)?.Value,
            user.FindFirst(Claims.TokenId)?.Value,
            Headers(h => h.StartsWith("X-Keygate-", StringComparison.OrdinalIgnoreCase)),
            Headers(h => h.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)), r.Headers["traceparent"].FirstOrDefault());
    }
}
