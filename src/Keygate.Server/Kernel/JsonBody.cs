using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Keygate.Kernel;

/// <summary>
/// The one reader of JSON request bodies, so that every bad input gets a precise answer and never a 5xx: 415 for
/// another content type, 413 over the size limit, 400 INVALID_INPUT_ARGUMENT for malformed JSON, nesting deeper
/// than <see cref="MaxDepth"/>, a field named twice, text that is not valid Unicode (a lone surrogate escape, bytes
/// that are not UTF-8) or holds U+0000, wrong types, numbers that do not fit, and (on Keygate's own routes) unknown
/// fields. Every body is checked whole before a handler sees it, so a handler may read any string of it safely.
/// </summary>
/// <remarks>
/// A field named twice is refused on every surface, the legacy one included: JSON leaves the meaning open (one
/// parser takes the first, another the last), and a key manager must not act on a body that a proxy or a log
/// reads differently. No public SDK sends one; unknown fields stay ignored on the legacy routes (contract A2).
/// U+0000 is refused because PostgreSQL text cannot hold it and no field of ours means it.
/// </remarks>
public static class JsonBody
{
    public const int MaxDepth = 32;

    /// <summary>Keygate's own routes refuse fields they do not know (contract B).</summary>
    public static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false, // a repeated name: which value was meant? (400, not the last one silently)
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = MaxDepth,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(allowIntegerValues: false) },
    };

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

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

    /// <summary>
    /// The body as a checked JSON object, or null when there is none; used by the legacy routes, which inspect
    /// fields themselves (and ignore unknown ones). A body that is present must be an object.
    /// </summary>
    public static async Task<Result<JsonDocument?>> ReadObjectAsync(HttpRequest request)
    {
        var bytes = await ReadBytesAsync(request);
        if (bytes.Error is { } e) return e;
        if (bytes.Value is null) return (JsonDocument?)null;
        var doc = Parse(bytes.Value);
        if (doc.Error is { } invalid) return invalid;
        if (doc.Value!.RootElement.ValueKind == JsonValueKind.Object) return doc.Value;
        doc.Value.Dispose();
        return KeygateError.Invalid("The request body must be a JSON object.");
    }

    /// <summary>Deserialises a typed request strictly; a missing body is a 400.</summary>
    public static async Task<Result<T>> ReadAsync<T>(HttpRequest request) where T : class
    {
        var bytes = await ReadBytesAsync(request);
        if (bytes.Error is { } e) return e;
        if (bytes.Value is null) return KeygateError.Invalid("A JSON request body is required.");
        var doc = Parse(bytes.Value);
        if (doc.Error is { } invalid) return invalid;
        using var json = doc.Value!;
        try
        {
            var value = json.Deserialize<T>(Strict);
            return value is null ? KeygateError.Invalid("The request body must be a JSON object.") : value;
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "$" : ex.Path.TrimStart('$', '.');
            var message = Describe(ex);
            return KeygateError.Invalid(message, new Dictionary<string, string[]> { [field] = [message] });
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return KeygateError.Invalid("The request body contains a value that cannot be read.");
        }
    }

    /// <summary>Parses and checks the whole document: every name and string must decode, none may hold U+0000.</summary>
    private static Result<JsonDocument> Parse(byte[] bytes)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return KeygateError.Invalid(ex.Message.StartsWith("Duplicate", StringComparison.Ordinal)
                ? "A field appears more than once." : "The request body is not valid JSON.");
        }
        catch (InvalidOperationException)
        {
            // Comparing names for duplicates decodes them, which fails on invalid Unicode.
            return KeygateError.Invalid(InvalidText);
        }
        try
        {
            if (HoldsNul(doc.RootElement)) throw new InvalidOperationException();
            return doc;
        }
        catch (InvalidOperationException)
        {
            doc.Dispose();
            return KeygateError.Invalid(InvalidText);
        }
    }

    private const string InvalidText = "The request body contains text that is not valid Unicode, or U+0000.";

    /// <summary>Decodes every name and string (throwing InvalidOperationException where one is not valid Unicode).</summary>
    private static bool HoldsNul(JsonElement e) => e.ValueKind switch
    {
        // The depth is bounded by MaxDepth, so the recursion is too.
        JsonValueKind.Object => e.EnumerateObject().Any(p => p.Name.Contains('\0') || HoldsNul(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Any(HoldsNul),
        JsonValueKind.String => e.GetString()!.Contains('\0'),
        _ => false,
    };

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
