using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keygate.Kernel;

/// <summary>
/// Strings of typed request bodies, held to <see cref="JsonBody"/>'s rules: text that is not valid Unicode (a lone
/// surrogate escape) and U+0000 are a JsonException, which the binder answers 400, not the 500 that the reader's
/// InvalidOperationException would become; PostgreSQL text cannot hold U+0000 either.
/// </summary>
public sealed class StrictStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("Expected a string.");
        string value;
        try { value = reader.GetString()!; }
        catch (InvalidOperationException e) { throw new JsonException("The text is not valid Unicode.", e); }
        return value.Contains('\0') ? throw new JsonException("The text holds U+0000.") : value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
