namespace Keygate.Load;

/// <summary>Contract A1, as a client computes it (the same six lines as scripts/obfuscate.py).</summary>
public static class Obfuscation
{
    public static string Obfuscate(string key, string timestamp)
    {
        var high = timestamp[^6..];
        var low = (int.Parse(high) >> 1).ToString("D6");
        return string.Concat(high.Select(d => key[d - '0'])) + string.Concat(low.Select(d => key[d - '0' + 2]));
    }
}
