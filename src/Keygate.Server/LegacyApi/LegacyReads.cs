using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Keygate.Kernel;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.LegacyApi;

/// <summary>
/// The reads every legacy client repeats on every call (GET /api/v1/apiKeys, GET /api/v1/auth) served by one plain
/// <see cref="RequestDelegate"/> instead of the one the framework generates from the typed handler. The route keeps
/// its typed handler, which this delegate calls, and so its OpenAPI description; what goes is the plumbing a call paid
/// for around it: a DI scope per request (the scoped <see cref="LegacyCaller"/>, and a typed result resolving its logger
/// and JSON options), the filter chain's invocation context, and reflection-driven JSON. The checks are the filters'
/// (<see cref="CrossSiteFilter"/>, <see cref="LegacyRequestFilter"/>, <see cref="LegacySessionFilter"/>), in their order.
/// bench/README.md (issue 18) has the figures.
/// </summary>
public static class LegacyReads
{
    /// <summary>A read handler: the typed handler of the route, given the caller the session check filled.</summary>
    public delegate IResult Read(HttpContext http, LegacyCaller caller, TimeProvider clock);

    /// <summary>
    /// Serves the route with <paramref name="read"/> behind the legacy checks, writing a 200's <typeparamref name="T"/>
    /// with <paramref name="json"/>. The group's endpoint filters do not run for it: the delegate runs their checks itself.
    /// </summary>
    public static RouteHandlerBuilder ServedBy<T>(this RouteHandlerBuilder route, Read read, JsonTypeInfo<T> json)
    {
        route.Add(endpoint =>
        {
            var gate = endpoint.ApplicationServices.GetRequiredService<SessionGate>();
            var clock = endpoint.ApplicationServices.GetRequiredService<TimeProvider>();
            endpoint.RequestDelegate = http => ServeAsync(http, gate, clock, read, json);
        });
        return route;
    }

    private static Task ServeAsync<T>(HttpContext http, SessionGate gate, TimeProvider clock, Read read, JsonTypeInfo<T> json)
    {
        if ((CrossSite.OriginRefusal(http.Request) ?? CrossSite.ContentTypeRefusal(http.Request)) is { } refused)
            return ErrorResponses.Legacy(refused).ExecuteAsync(http);
        var caller = new LegacyCaller();
        var check = gate.CheckAsync(http, caller);
        // A session found in memory completes at once: no state machine for the usual call.
        return check.IsCompletedSuccessfully
            ? Answer(http, check.Result, caller, clock, read, json)
            : CheckedAsync(http, check, caller, clock, read, json);
    }

    private static async Task CheckedAsync<T>(HttpContext http, ValueTask<KeygateError?> check, LegacyCaller caller, TimeProvider clock, Read read, JsonTypeInfo<T> json) =>
        await Answer(http, await check, caller, clock, read, json);

    private static Task Answer<T>(HttpContext http, KeygateError? refusal, LegacyCaller caller, TimeProvider clock, Read read, JsonTypeInfo<T> json)
    {
        caller.Rate.WriteTo(http.Response);
        if (refusal is not null) return ErrorResponses.Legacy(refusal, http).ExecuteAsync(http);
        var result = read(http, caller, clock);
        if (result is INestedHttpResult nested) result = nested.Result;
        if (result is not Ok<T> { Value: { } value }) return result.ExecuteAsync(http);
        Write(http.Response, value, json);
        return Task.CompletedTask;
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// The 200 as a typed result writes it (application/json; charset=utf-8, the same bytes: the source-generated
    /// context has the web defaults the app's JSON options start from, and these bodies use none of its converters),
    /// with its length known. Serialized into this thread's buffer and copied into the response's pipe, which
    /// Kestrel flushes when the request ends.
    /// </summary>
    private static void Write<T>(HttpResponse response, T value, JsonTypeInfo<T> json)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, json);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
    }
}

/// <summary>The bodies <see cref="LegacyReads"/> writes, with the web defaults of the app's JSON options.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LegacyKey[]))]
[JsonSerializable(typeof(LoginResponse))]
public sealed partial class LegacyJson : JsonSerializerContext;
