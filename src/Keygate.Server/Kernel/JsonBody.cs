using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Keygate.Kernel;

/// <summary>
/// Reads the legacy routes' JSON bodies by hand (the public clients depend on their exact answers): 415 for another
/// content type, 413 over the size limit, 400 INVALID_INPUT_ARGUMENT for malformed JSON. Keygate's own routes bind
/// typed records instead (<see cref="RequestValidation"/>).
/// </summary>
public static class JsonBody
{
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
}
