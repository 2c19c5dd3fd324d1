using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Validation;

namespace Keygate.Kernel;

/// <summary>
/// Keygate's own routes bind typed [FromBody] records and check them with the framework's validation (attributes
/// on the records). What the framework answers is reshaped into the contract's errors here: a binding failure
/// becomes 400 INVALID_INPUT_ARGUMENT with <c>errors</c> per field (or 415, 413), a validation failure the same
/// 400 problem (see <see cref="ErrorResponses.AddKeygateErrors"/>). Rules that span fields stay in the handlers.
/// </summary>
public static partial class RequestValidation
{
    public static IServiceCollection AddKeygateRequests(this IServiceCollection services)
    {
        services.AddValidation();
        services.AddSingleton<RequestValidator>();
        // Binding failures throw, so the exception handler sees the JsonException and can name the field.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // Only request bodies are read with these settings: the legacy routes parse their bodies by hand.
        services.ConfigureHttpJsonOptions(o =>
        {
            var s = o.SerializerOptions;
            s.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow; // contract B: unknown fields are a 400
            s.RespectRequiredConstructorParameters = true;
            s.MaxDepth = JsonBody.MaxDepth;
            s.AllowDuplicateProperties = false; // as JsonBody: a field named twice means different things to different readers
            s.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
            s.Converters.Add(new StrictStringConverter());
        });
        return services;
    }

    /// <summary>
    /// A typed JSON body that starts with a byte-order mark is refused like on the legacy routes (<see cref="JsonBody"/>):
    /// RFC 8259 forbids sending one, and System.Text.Json would skip it silently. The first bytes are only looked at,
    /// not consumed, so the body still streams to the binder. Only requests bound to a typed body are checked.
    /// </summary>
    public static void UseNoByteOrderMark(this WebApplication app) => app.Use((ctx, next) =>
        ctx.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null && JsonBody.IsJson(ctx.Request.ContentType)
            ? CheckedAsync(ctx, next)
            : next(ctx)); // most requests: no async state machine for them

    private static async Task CheckedAsync(HttpContext ctx, RequestDelegate next)
    {
        if (await StartsWithByteOrderMarkAsync(ctx.Request.BodyReader, ctx.RequestAborted))
            throw new BadHttpRequestException("The request body starts with a byte-order mark.", StatusCodes.Status400BadRequest);
        await next(ctx);
    }

    private static async Task<bool> StartsWithByteOrderMarkAsync(System.IO.Pipelines.PipeReader body, CancellationToken ct)
    {
        while (true)
        {
            var read = await body.ReadAsync(ct);
            var buffer = read.Buffer;
            if (buffer.Length >= 3 || read.IsCompleted)
            {
                Span<byte> first = stackalloc byte[3];
                var n = (int)Math.Min(3, buffer.Length);
                buffer.Slice(0, n).CopyTo(first);
                body.AdvanceTo(buffer.Start); // nothing consumed or examined: the binder reads it all
                return n == 3 && first[0] == 0xEF && first[1] == 0xBB && first[2] == 0xBF;
            }
            body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// A body declared larger than its endpoint's limit (RequestSizeLimit metadata) is refused before it is read. Kestrel
    /// enforces the same limit on bodies without a length; a host without that feature (the test server) relies on this.
    /// </summary>
    public static void UseDeclaredBodyLimits(this WebApplication app) => app.Use((ctx, next) =>
        ctx.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { MaxRequestBodySize: { } max } && ctx.Request.ContentLength > max
            ? throw new BadHttpRequestException("The request body is too large.", StatusCodes.Status413PayloadTooLarge)
            : next(ctx));

    /// <summary>The contract's error for a request the framework could not bind (malformed JSON, wrong types, no body, another content type).</summary>
    public static KeygateError OfBindingFailure(BadHttpRequestException e) => e.StatusCode switch
    {
        415 => KeygateError.UnsupportedMediaType,
        413 => KeygateError.PayloadTooLarge,
        400 when e.InnerException is JsonException j => OfJsonException(j),
        400 => KeygateError.Invalid("A JSON request body is required, with the fields of the right types."),
        _ => new KeygateError(e.StatusCode, ErrorResponses.CodeOf(e.StatusCode), "The request could not be read."),
    };

    private static KeygateError OfJsonException(JsonException ex)
    {
        var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "$" : ex.Path.TrimStart('$', '.');
        var message = Describe(ex);
        return KeygateError.Invalid(message, new Dictionary<string, string[]> { [field] = [message] });
    }

    // The framework's messages name CLR types; clients get a sentence about their JSON instead.
    private static string Describe(JsonException ex) => ex.Message switch
    {
        var m when m.Contains("could not be mapped", StringComparison.Ordinal) => "Unknown field.",
        var m when m.Contains("missing required properties", StringComparison.Ordinal) =>
            "Missing required field(s): " + string.Join(", ", Quoted().Matches(m[m.IndexOf("including", StringComparison.Ordinal)..]).Select(x => x.Groups[1].Value)) + ".",
        var m when m.Contains("could not be converted", StringComparison.Ordinal) => "This field has the wrong type or value.",
        _ => "The request body is not valid JSON.",
    };

    /// <summary>
    /// The framework's validation names fields by their C# path ("CallThreshold.Calls"); clients sent JSON, so
    /// errors are keyed by the JSON path ("callThreshold.calls"), as binding failures are.
    /// </summary>
    public static IDictionary<string, string[]> ByJsonPath(IDictionary<string, string[]> errors) =>
        errors.ToDictionary(e => string.Join('.', e.Key.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName)), e => e.Value);

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex Quoted();
}

// ASP0029: .NET 10 marks the resolver's direct use experimental; the alternative, DataAnnotations' Validator, does not
// descend into nested records, so the console would check fewer rules than the API does.
#pragma warning disable ASP0029
/// <summary>Checks a request record against its attributes outside an endpoint (the console's forms use the API's records).</summary>
public sealed class RequestValidator(IOptions<ValidationOptions> options, IServiceProvider services)
{
    public async Task<KeygateError?> ValidateAsync<T>(T request, CancellationToken ct = default) where T : notnull
    {
        var o = options.Value;
        if (!o.TryGetValidatableTypeInfo(typeof(T), out var info))
            throw new InvalidOperationException($"{typeof(T).Name} is not a validatable request type.");
        var context = new ValidateContext
        {
            ValidationOptions = o,
            ValidationContext = new ValidationContext(request, services, null),
        };
        await info.ValidateAsync(request, context, ct);
        return context.ValidationErrors is { Count: > 0 } errors
            ? KeygateError.Invalid("The request is not valid.", RequestValidation.ByJsonPath(errors))
            : null;
    }
}
#pragma warning restore ASP0029
