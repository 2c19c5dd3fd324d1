using System.Globalization;

namespace Keygate.Portal;

/// <summary>Times as the console's forms carry them: datetime-local fields read as UTC, shown back the same way.</summary>
public static class FormTime
{
    /// <summary>The field as epoch seconds (UTC), null when empty; false when it is not a date and time.</summary>
    public static bool TryParse(string? text, out long? at)
    {
        at = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!DateTime.TryParseExact(text, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)) return false;
        at = new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeSeconds();
        return true;
    }

    /// <summary>Epoch seconds as a datetime-local field's value.</summary>
    public static string? Input(long? at) =>
        at is { } s ? DateTimeOffset.FromUnixTimeSeconds(s).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) : null;
}
