using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.Organizations;

public sealed record SubscriptionRequest(bool Enabled, long? ExpiresAt = null)
{
    public KeygateError? Validate() => ExpiresAt is < 0 or > 253402300799 // up to 9999-12-31
        ? KeygateError.Invalid("expiresAt", "expiresAt must be epoch seconds or null.")
        : null;
}

public sealed record ThresholdPatch(long? Calls = null, long? WindowSeconds = null, int? WarnAtPercent = null);

public sealed record RatePatch(int? PerSecond = null, int? PerHour = null);

public sealed record HeavyRatePatch(int? PerMinute = null, int? PerHour = null);

public sealed record RatesPatch(RatePatch? Light = null, RatePatch? Medium = null, HeavyRatePatch? Heavy = null);

public sealed record LimitsRequest(ThresholdPatch? CallThreshold = null, RatesPatch? Rates = null, int? SandboxDailyQuota = null)
{
    /// <summary>Every given number must be positive (the quota may be zero); the errors are keyed by field.</summary>
    public KeygateError? Validate()
    {
        var bad = new Dictionary<string, string[]>();
        void Positive(string field, long? v) { if (v is <= 0) bad[field] = [$"{field} must be a positive integer."]; }
        Positive("callThreshold.calls", CallThreshold?.Calls);
        Positive("callThreshold.windowSeconds", CallThreshold?.WindowSeconds);
        if (CallThreshold?.WarnAtPercent is < 1 or > 100) bad["callThreshold.warnAtPercent"] = ["warnAtPercent must be 1 to 100."];
        Positive("rates.light.perSecond", Rates?.Light?.PerSecond);
        Positive("rates.light.perHour", Rates?.Light?.PerHour);
        Positive("rates.medium.perSecond", Rates?.Medium?.PerSecond);
        Positive("rates.medium.perHour", Rates?.Medium?.PerHour);
        Positive("rates.heavy.perMinute", Rates?.Heavy?.PerMinute);
        Positive("rates.heavy.perHour", Rates?.Heavy?.PerHour);
        if (SandboxDailyQuota is < 0) bad["sandboxDailyQuota"] = ["sandboxDailyQuota must be zero or more."];
        return bad.Count > 0 ? KeygateError.Invalid("The limits are not valid.", bad) : null;
    }

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
