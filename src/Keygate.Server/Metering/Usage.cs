namespace Keygate;

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

/// <summary>What metering decided about one call.</summary>
public readonly record struct MeterDecision(MeterOutcome Outcome, int RetryAfterSeconds = 0, string? Limit = null, bool WarningCrossed = false, long Calls = 0)
{
    public static MethodWeight WeightOf(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? MethodWeight.Light
        : HttpMethods.IsDelete(method) ? MethodWeight.Heavy
        : MethodWeight.Medium;
}

public sealed record RateUsage(int PerSecond, int PerHour, long UsedThisSecond, long UsedThisHour);
public sealed record HeavyRateUsage(int PerMinute, int PerHour, long UsedThisMinute, long UsedThisHour);
public sealed record RatesUsage(RateUsage Light, RateUsage Medium, HeavyRateUsage Heavy);
public sealed record SandboxUsage(int DailyQuota, long UsedToday);

/// <summary>GET /api/v1/usage and the provider's usage view (contract B).</summary>
public sealed record UsageView(long WindowStart, long WindowSeconds, long Calls, long Threshold, long Remaining, int WarnAtPercent,
    RatesUsage Rates, SandboxUsage Sandbox);

/// <summary>The durable part of an org's meter: the threshold window and the sandbox day, restored after a restart.</summary>
public sealed class MeterState
{
    public long OrganizationId { get; set; }
    public long ThresholdWindowStartMs { get; set; }
    public long ThresholdCount { get; set; }
    public long WarnedWindowStartMs { get; set; } = -1;
    public long SandboxDayStartMs { get; set; }
    public long SandboxDayCount { get; set; }
}

/// <summary>Usage history: calls per org per hour, by weight.</summary>
public sealed class UsageBucket
{
    public long OrganizationId { get; set; }
    public long HourStartMs { get; set; }
    public long Light { get; set; }
    public long Medium { get; set; }
    public long Heavy { get; set; }
}

/// <summary>
/// The durable copy of a cluster's counters (with Keygate:Redis): one row per org and window slot
/// (<see cref="Meter.Names"/>), holding the calls of its current window. Nodes add what they counted in Redis
/// every 2 seconds; while Redis is unreachable they count here directly (<see cref="DatabaseUsageCounter"/>).
/// </summary>
public sealed class MeterWindow
{
    public long OrganizationId { get; set; }
    public string Name { get; set; } = "";
    public long WindowStartMs { get; set; }
    public long Count { get; set; }
    /// <summary>The part of <see cref="Count"/> counted here while Redis was away, not yet added to Redis.</summary>
    public long Unmerged { get; set; }
}
