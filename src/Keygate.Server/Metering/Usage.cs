using Keygate.Kernel;

namespace Keygate.Metering;

/// <summary>How heavy a legacy call is for rate limiting (contract A5).</summary>
public enum MethodWeight { Light, Medium, Heavy }

public enum MeterOutcome
{
    Allowed,
    RateLimited,
    ThresholdExceeded,
    /// <summary>Nothing was counted: the org changed after the version the caller decided on (cluster only).</summary>
    Stale,
}

/// <summary>
/// The rate window a metered answer reports in its X-RateLimit-* headers (contract A5): of the call's weight, the
/// one with the fewest calls left. <see cref="Limit"/> 0 means none (the call was not metered).
/// </summary>
public readonly record struct RateWindow(int Limit, long Remaining, int ResetSeconds)
{
    /// <summary>The one of the two windows with fewer calls left; the shorter one on a tie, as it resets first.</summary>
    public static RateWindow Fewest(RateWindow fast, RateWindow slow) => slow.Remaining < fast.Remaining ? slow : fast;

    /// <summary>Adds X-RateLimit-Limit, -Remaining and -Reset, when the call was metered.</summary>
    public void WriteTo(HttpResponse response)
    {
        if (Limit <= 0) return;
        var h = response.Headers;
        h["X-RateLimit-Limit"] = LimitText(Limit);
        h["X-RateLimit-Remaining"] = Remaining.ToString(System.Globalization.CultureInfo.InvariantCulture);
        h["X-RateLimit-Reset"] = ResetText(ResetSeconds);
    }

    // Every metered answer carries these; the limit is the org's (a handful of values) and the reset at most an hour of
    // seconds, so their strings are made once instead of per call. Only the remaining count is new each time.
    private sealed record Text(int Value, string String);
    private static Text _lastLimit = new(0, "0");
    private static readonly string?[] Resets = new string?[3601];

    private static string LimitText(int limit)
    {
        var last = _lastLimit;
        if (last.Value == limit) return last.String;
        var text = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _lastLimit = new Text(limit, text);
        return text;
    }

    private static string ResetText(int seconds) =>
        (uint)seconds < (uint)Resets.Length
            ? Resets[seconds] ??= seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What metering decided about one call.</summary>
public readonly record struct MeterDecision(MeterOutcome Outcome, int RetryAfterSeconds = 0, string? Limit = null, bool WarningCrossed = false, long Calls = 0,
    RateWindow Rate = default)
{
    public static MethodWeight WeightOf(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? MethodWeight.Light
        : HttpMethods.IsDelete(method) ? MethodWeight.Heavy
        : MethodWeight.Medium;

    /// <summary>The 429 of contract A5 for a rate-limited decision.</summary>
    public KeygateError RateLimitError() =>
        new(429, "RATE_LIMIT_EXCEEDED", $"Rate Limit ({Limit}) exceeded") { RetryAfterSeconds = RetryAfterSeconds };
}

public sealed record RateUsage(int PerSecond, int PerHour, long UsedThisSecond, long UsedThisHour);
public sealed record HeavyRateUsage(int PerMinute, int PerHour, long UsedThisMinute, long UsedThisHour);
public sealed record RatesUsage(RateUsage Light, RateUsage Medium, HeavyRateUsage Heavy);
public sealed record SandboxUsage(int DailyQuota, long UsedToday);

/// <summary>
/// GET /api/v1/usage and the provider's usage view (contract B). The provider's also carries <see cref="Gateway"/>
/// (an additive field; the org's own view leaves it out).
/// </summary>
public sealed record UsageView(long WindowStart, long WindowSeconds, long Calls, long Threshold, long Remaining, int WarnAtPercent,
    RatesUsage Rates, SandboxUsage Sandbox,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    GatewayUsage? Gateway = null);
