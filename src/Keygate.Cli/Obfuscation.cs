namespace Keygate.Cli;

/// <summary>
/// Contract A1, the way the cloud's public SDKs compute it (the CLI shares no code with the server): with ts the
/// epoch time in milliseconds, H = the last 6 digits of ts and L = H >> 1 zero-padded to 6 digits, the value is
/// key[d] for each digit d of H, then key[d + 2] for each digit d of L.
/// </summary>
public static class Obfuscation
{
    public static string Obfuscate(string key, string timestampMs)
    {
        if (timestampMs.Length < 6 || !timestampMs.All(char.IsAsciiDigit))
            throw new ArgumentException("The timestamp must be at least 6 decimal digits.", nameof(timestampMs));
        if (key.Length < 12) throw new ArgumentException("The key must be at least 12 characters.", nameof(key));
        var high = timestampMs[^6..];
        var low = (int.Parse(high, System.Globalization.CultureInfo.InvariantCulture) >> 1).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var result = new char[12];
        for (var i = 0; i < 6; i++)
        {
            result[i] = key[high[i] - '0'];
            result[i + 6] = key[low[i] - '0' + 2];
        }
        return new string(result);
    }
}
