using Keygate.Data;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Keygate.Keys;

/// <summary>Key values: generation, validation and the legacy API's obfuscation (contract A1).</summary>
public static class KeyValues
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    public const int CloudServiceLength = 12;
    public const int SandboxLength = 32;

    public static string Generate(KeyType type) =>
        RandomNumberGenerator.GetString(Alphabet, type == KeyType.CLOUD_SERVICE ? CloudServiceLength : SandboxLength);

    public static bool IsValidCloudServiceValue(string? value)
    {
        if (value is null || value.Length != CloudServiceLength) return false;
        foreach (var c in value)
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        return true;
    }

    /// <summary>
    /// Recomputes the obfuscated key for <paramref name="timestamp"/> and compares it with what the client
    /// sent, in constant time and without allocating. H = last six digits of the millisecond timestamp,
    /// L = H >> 1 zero-padded to six digits; the result is key[H[i]] for each i, then key[L[i] + 2].
    /// </summary>
    public static bool ObfuscatedMatches(ReadOnlySpan<char> key, ReadOnlySpan<char> timestamp, ReadOnlySpan<char> sent)
    {
        Span<char> expected = stackalloc char[12];
        if (!TryObfuscate(key, timestamp, expected)) return false;
        // Compare the full expected length whatever was sent, so timing does not tell how many characters matched.
        Span<char> padded = stackalloc char[12];
        padded.Clear();
        sent[..Math.Min(sent.Length, 12)].CopyTo(padded);
        var same = CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(expected), MemoryMarshal.AsBytes(padded));
        return same && sent.Length == 12;
    }

    public static bool TryObfuscate(ReadOnlySpan<char> key, ReadOnlySpan<char> timestamp, Span<char> output)
    {
        if (key.Length < 12 || timestamp.Length < 6 || output.Length < 12) return false;
        var high = timestamp[^6..];
        var h = 0;
        foreach (var c in high)
        {
            if (!char.IsAsciiDigit(c)) return false;
            h = h * 10 + (c - '0');
        }
        for (var i = 0; i < 6; i++) output[i] = key[high[i] - '0'];
        var low = h >> 1;
        for (var i = 5; i >= 0; i--)
        {
            output[6 + i] = key[low % 10 + 2];
            low /= 10;
        }
        return true;
    }

    public static string Obfuscate(string key, string timestamp)
    {
        Span<char> output = stackalloc char[12];
        return TryObfuscate(key, timestamp, output) ? new string(output) : throw new ArgumentException("Bad timestamp or key.");
    }
}
