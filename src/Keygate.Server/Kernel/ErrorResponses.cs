using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using System.Diagnostics;

namespace Keygate.Kernel;

/// <summary>The body legacy clients expect for every error (contract A); a rate limit adds "Retry-After" (A5).</summary>
public sealed record LegacyError(string Code, string Message)
{
    [System.Text.Json.Serialization.JsonPropertyName("Retry-After")]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? RetryAfter { get; init; }
}

public static class ErrorResponses
{
    public static bool IsLegacyPath(PathString path) =>
        path.StartsWithSegments("/api/v1") || path.StartsWithSegments("/zscsb") || path.StartsWithSegments("/auth");

    public static JsonHttpResult<LegacyError> Legacy(KeygateError e) =>
        TypedResults.Json(new LegacyError(e.Code, e.Message), statusCode: e.Status);

    /// <summary>
    /// A legacy refusal; a rate limit also gets its Retry-After header and body field (A5), any other refusal
    /// that says when to come back (503 SERVICE_BUSY) the header only, its body staying {code,message} (A2).
    /// </summary>
    public static JsonHttpResult<LegacyError> Legacy(KeygateError e, HttpContext http)
    {
        if (e.RetryAfterSeconds is not { } seconds) return Legacy(e);
        if (e.Status == 429) return RateLimited(e, http);
        http.Response.Headers.RetryAfter = seconds.ToString();
        return Legacy(e);
    }

    /// <summary>The 429 of contract A5: Retry-After as a header and as a body field.</summary>
    public static JsonHttpResult<LegacyError> RateLimited(KeygateError e, HttpContext http)
    {
        var seconds = e.RetryAfterSeconds ?? 1;
        http.Response.Headers.RetryAfter = seconds.ToString();
        return TypedResults.Json(new LegacyError(e.Code, e.Message) { RetryAfter = $"{seconds} seconds" }, statusCode: e.Status);
    }

    public static JsonHttpResult<LegacyError> Legacy(int status, string code, string message) =>
        TypedResults.Json(new LegacyError(code, message), statusCode: status);

    /// <summary>RFC 9457 problem details with the stable code; traceId and type are added centrally.</summary>
    public static ProblemHttpResult Problem(KeygateError e)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = e.Code };
        if (e.FieldErrors is { } fields) extensions["errors"] = fields;
        return TypedResults.Problem(detail: e.Message, statusCode: e.Status, title: TitleOf(e.Status), extensions: extensions);
    }

    public static string CodeOf(int status) => status switch
    {
        400 => "INVALID_INPUT_ARGUMENT",
        401 => "UNAUTHORIZED",
        403 => "ACCESS_DENIED",
        404 => "RESOURCE_NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        429 => "RATE_LIMIT_EXCEEDED",
        503 => "SERVICE_UNAVAILABLE",
        _ => status >= 500 ? "INTERNAL_ERROR" : "REQUEST_REFUSED",
    };

    private static string TitleOf(int status) => status switch
    {
        400 => "Invalid input",
        401 => "Unauthorized",
        403 => "Access denied",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Error",
    };

    /// <summary>
    /// ProblemDetails everywhere (with code, type and traceId), {code,message} on legacy routes, and no
    /// exception detail ever: an unreachable database is a 503, anything unexpected a bare 500.
    /// </summary>
    public static IServiceCollection AddKeygateErrors(this IServiceCollection services) =>
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var p = ctx.ProblemDetails;
            var status = p.Status ?? 500;
            p.Extensions.TryAdd("code", CodeOf(status));
            p.Type = $"urn:keygate:error:{p.Extensions["code"]}";
            // The framework's validation problem comes with its own title and no detail; ours have both.
            if (p is HttpValidationProblemDetails v)
            {
                v.Errors = RequestValidation.ByJsonPath(v.Errors);
                p.Title = TitleOf(status);
                p.Detail ??= "The request is not valid; see errors.";
            }
            p.Title ??= TitleOf(status);
            p.Extensions["traceId"] = Activity.Current?.Id ?? ctx.HttpContext.TraceIdentifier;
        });

    /// <summary>Writes an error as a page, for requests a browser made; given by the portal, which the kernel does not know.</summary>
    public delegate Task ErrorPage(HttpContext ctx, int status, string code, string message);

    /// <param name="page">The HTML error page for the requests it returns true for; other requests get JSON.</param>
    public static void UseKeygateErrors(this WebApplication app, (Func<PathString, bool> Serves, ErrorPage Write)? page = null)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A request the framework could not bind is the client's mistake, answered below; not worth an error log line.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
            StatusCodeSelector = ex => ex switch
            {
                BadHttpRequestException b => b.StatusCode,
                _ when Db.IsUnavailable(ex) => 503,
                _ => 500,
            },
            ExceptionHandler = async ctx =>
            {
                var ex = ctx.Features.Get<IExceptionHandlerFeature>()?.Error;
                var status = ctx.Response.StatusCode;
                var message = status switch
                {
                    // No promise that nothing changed: a commit whose answer was lost may have happened (KeyLifecycle).
                    503 => "The service is temporarily unavailable. Try again shortly.",
                    >= 500 => "An unexpected error occurred.",
                    _ => "The request could not be read.",
                };
                if (ex is BadHttpRequestException bad)
                {
                    var e = RequestValidation.OfBindingFailure(bad);
                    await WriteAsync(ctx, e.Status, e.Code, e.Message, page, e.FieldErrors);
                    return;
                }
                await WriteAsync(ctx, status, CodeOf(status), message, page);
            },
        });
        // What UseStatusCodePages does (a body for an error answered without one, unless an endpoint or the request's
        // IStatusCodePagesFeature turns it off), without the framework middleware's write to HttpContext.Items, which
        // cost every call a dictionary (issue 18, bench/README.md).
        app.Use((ctx, next) =>
        {
            var feature = new StatusCodePagesFeature();
            ctx.Features.Set<IStatusCodePagesFeature>(feature);
            var call = next(ctx);
            if (!call.IsCompletedSuccessfully) return StatusPageAfterAsync(call, ctx, feature, page);
            return NeedsStatusPage(ctx, feature) ? StatusPageAsync(ctx, page) : Task.CompletedTask;
        });
    }

    private static async Task StatusPageAfterAsync(Task call, HttpContext ctx, StatusCodePagesFeature feature, (Func<PathString, bool> Serves, ErrorPage Write)? page)
    {
        await call;
        if (NeedsStatusPage(ctx, feature)) await StatusPageAsync(ctx, page);
    }

    private static bool NeedsStatusPage(HttpContext ctx, StatusCodePagesFeature feature)
    {
        var r = ctx.Response;
        return feature.Enabled && !r.HasStarted && r.StatusCode is >= 400 and < 600 && r.ContentLength is null && string.IsNullOrEmpty(r.ContentType)
            && ctx.GetEndpoint()?.Metadata.GetMetadata<ISkipStatusCodePagesMetadata>() is null;
    }

    private static Task StatusPageAsync(HttpContext ctx, (Func<PathString, bool> Serves, ErrorPage Write)? page)
    {
        var status = ctx.Response.StatusCode;
        return WriteAsync(ctx, status, CodeOf(status), page, status switch
        {
            404 => "The resource does not exist.",
            405 => "This method is not allowed here.",
            _ => "The request was refused.",
        });
    }

    private static Task WriteAsync(HttpContext ctx, int status, string code, (Func<PathString, bool> Serves, ErrorPage Write)? page, string message) =>
        WriteAsync(ctx, status, code, message, page);

    private static async Task WriteAsync(HttpContext ctx, int status, string code, string message, (Func<PathString, bool> Serves, ErrorPage Write)? page,
        IDictionary<string, string[]>? errors = null)
    {
        ctx.Response.StatusCode = status;
        if (IsLegacyPath(ctx.Request.Path))
        {
            await ctx.Response.WriteAsJsonAsync(new LegacyError(code, message));
            return;
        }
        if (page is { } p && p.Serves(ctx.Request.Path))
        {
            await p.Write(ctx, status, code, message);
            return;
        }
        var problems = ctx.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = ctx,
            ProblemDetails = errors is null
                ? new ProblemDetails { Status = status, Detail = message, Extensions = { ["code"] = code } }
                : new HttpValidationProblemDetails(errors) { Status = status, Title = TitleOf(status), Detail = message, Extensions = { ["code"] = code } },
        });
    }
}
