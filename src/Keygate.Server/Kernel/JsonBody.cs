using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Keygate.Kernel;

/// <summary>
/// Reads JSON request bodies by hand so that every bad input gets a precise answer: 415 for another
/// content type, 413 over the size limit, 400 INVALID_INPUT_ARGUMENT for malformed JSON, wrong types,
/// invalid Unicode or (on Keygate's own routes) unknown fields.
/// </summary>
public static class JsonBody
{
    /// <summary>Keygate's own routes refuse fields they do not know (contract B).</summary>
    public static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false, // a repeated name: which value was meant? (400, not the last one silently)
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = 32,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(allowIntegerValues: false) },
    };

    public static bool IsJson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || (contentType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && contentType.Contains("+json", StringComparison.OrdinalIgnoreCase)));

    public static bool HasBody(HttpRequest r) => r.ContentLength > 0 || (r.ContentLength is null && r.Headers.TransferEncoding.Count > 0);

    /// <summary>The raw body, or null when there is none.</summary>
    public static async Task<Result<byte[]?>> ReadBytesAsync(HttpRequest request)
    {
        if (!HasBody(request)) return (byte[]?)null;
        if (!IsJson(request.ContentType)) return KeygateError.UnsupportedMediaType;
        var max = request.HttpContext.RequestServices.GetRequiredService<IOptions<KeygateOptions>>().Value.MaxJsonBodyBytes;
        if (request.ContentLength > max) return KeygateError.PayloadTooLarge;
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > max) return KeygateError.PayloadTooLarge;
            buffer.Write(chunk, 0, read);
        }
        return buffer.Length == 0 ? (byte[]?)null : buffer.ToArray();
    }

    /// <summary>Parses a JSON document; used by the legacy routes, which inspect fields themselves.</summary>
    public static async Task<Result<JsonDocument?>> ReadDocumentAsync(HttpRequest request)
    {
        var bytes = await ReadBytesAsync(request);
        if (bytes.Error is { } e) return e;
        if (bytes.Value is null) return (JsonDocument?)null;
        try { return JsonDocument.Parse(bytes.Value, new JsonDocumentOptions { MaxDepth = 32 }); }
        catch (JsonException) { return KeygateError.Invalid("The request body is not valid JSON."); }
    }

    /// <summary>Deserialises a typed request strictly; a missing body is a 400.</summary>
    public static async Task<Result<T>> ReadAsync<T>(HttpRequest request) where T : class
    {
        var bytes = await ReadBytesAsync(request);
        if (bytes.Error is { } e) return e;
        if (bytes.Value is null) return KeygateError.Invalid("A JSON request body is required.");
        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes.Value, Strict);
            return value is null ? KeygateError.Invalid("The request body must be a JSON object.") : value;
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "$" : ex.Path.TrimStart('$', '.');
            var message = Describe(ex);
            return KeygateError.Invalid(message, new Dictionary<string, string[]> { [field] = [message] });
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            return KeygateError.Invalid("The request body contains a value that cannot be read (for example invalid Unicode).");
        }
    }

    // The framework's messages name CLR types; clients get a sentence about their JSON instead.
    private static string Describe(JsonException ex) => ex.Message switch
    {
        var m when m.Contains("could not be mapped", StringComparison.Ordinal) => "Unknown field.",
        var m when m.Contains("missing required properties", StringComparison.Ordinal) =>
            "Missing required field(s): " + string.Join(", ", System.Text.RegularExpressions.Regex.Matches(m[m.IndexOf("including", StringComparison.Ordinal)..], "'([^']+)'").Select(x => x.Groups[1].Value)) + ".",
        var m when m.Contains("could not be converted", StringComparison.Ordinal) => "This field has the wrong type or value.",
        _ => "The request body is not valid JSON.",
    };
}
