using Keygate.Data;
using System.ComponentModel.DataAnnotations;

namespace Keygate.Organizations;

/// <summary>PUT …/subscription. expiresAt is epoch seconds up to 9999-12-31, or null for never.</summary>
public sealed record SubscriptionRequest(bool Enabled,
    [property: Range(0, 253402300799, ErrorMessage = "expiresAt must be epoch seconds or null.")] long? ExpiresAt = null);

/// <summary>POST …/suspend: the note is kept in the audit log and sent with the org.suspended webhook.</summary>
public sealed record SuspendRequest([property: MaxLength(1000, ErrorMessage = "note must be at most 1000 characters.")] string? Note = null);

public sealed record ThresholdPatch(
    [property: Range(1, long.MaxValue, ErrorMessage = ThresholdPatch.Positive)] long? Calls = null,
    [property: Range(1, long.MaxValue, ErrorMessage = ThresholdPatch.Positive)] long? WindowSeconds = null,
    [property: Range(1, 100, ErrorMessage = "warnAtPercent must be 1 to 100.")] int? WarnAtPercent = null)
{
    public const string Positive = "Must be a positive integer.";
}

public sealed record RatePatch(
    [property: Range(1, int.MaxValue, ErrorMessage = ThresholdPatch.Positive)] int? PerSecond = null,
    [property: Range(1, int.MaxValue, ErrorMessage = ThresholdPatch.Positive)] int? PerHour = null);

public sealed record HeavyRatePatch(
    [property: Range(1, int.MaxValue, ErrorMessage = ThresholdPatch.Positive)] int? PerMinute = null,
    [property: Range(1, int.MaxValue, ErrorMessage = ThresholdPatch.Positive)] int? PerHour = null);

public sealed record RatesPatch(RatePatch? Light = null, RatePatch? Medium = null, HeavyRatePatch? Heavy = null);

/// <summary>PUT …/limits: every given number must be positive (the quota may be zero); what is left out keeps its value.</summary>
public sealed record LimitsRequest(ThresholdPatch? CallThreshold = null, RatesPatch? Rates = null,
    [property: Range(0, int.MaxValue, ErrorMessage = "sandboxDailyQuota must be zero or more.")] int? SandboxDailyQuota = null)
{
    /// <summary>Sets what is given and keeps the rest.</summary>
    public void ApplyTo(OrgLimits l)
    {
        l.CallThreshold = CallThreshold?.Calls ?? l.CallThreshold;
        l.ThresholdWindowSeconds = CallThreshold?.WindowSeconds ?? l.ThresholdWindowSeconds;
        l.WarnAtPercent = CallThreshold?.WarnAtPercent ?? l.WarnAtPercent;
        l.LightPerSecond = Rates?.Light?.PerSecond ?? l.LightPerSecond;
        l.LightPerHour = Rates?.Light?.PerHour ?? l.LightPerHour;
        l.MediumPerSecond = Rates?.Medium?.PerSecond ?? l.MediumPerSecond;
        l.MediumPerHour = Rates?.Medium?.PerHour ?? l.MediumPerHour;
        l.HeavyPerMinute = Rates?.Heavy?.PerMinute ?? l.HeavyPerMinute;
        l.HeavyPerHour = Rates?.Heavy?.PerHour ?? l.HeavyPerHour;
        l.SandboxDailyQuota = SandboxDailyQuota ?? l.SandboxDailyQuota;
    }
}
