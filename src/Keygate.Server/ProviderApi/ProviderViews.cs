using Keygate.Data;
using Keygate.Keys;

namespace Keygate.ProviderApi;

public sealed record SubscriptionView(bool Enabled, long? ExpiresAt);
public sealed record ThresholdView(long Calls, long WindowSeconds, int WarnAtPercent);
public sealed record RateView(int PerSecond, int PerHour);
public sealed record HeavyRateView(int PerMinute, int PerHour);
public sealed record RatesView(RateView Light, RateView Medium, HeavyRateView Heavy);
public sealed record LimitsView(ThresholdView CallThreshold, RatesView Rates, int SandboxDailyQuota)
{
    public static LimitsView From(OrgLimits l) => new(
        new ThresholdView(l.CallThreshold, l.ThresholdWindowSeconds, l.WarnAtPercent),
        new RatesView(new RateView(l.LightPerSecond, l.LightPerHour), new RateView(l.MediumPerSecond, l.MediumPerHour),
            new HeavyRateView(l.HeavyPerMinute, l.HeavyPerHour)),
        l.SandboxDailyQuota);
}

/// <summary>A key as the provider side sees it: never its value.</summary>
public sealed record KeyStatusView(long Id, string KeyType, string Status, string? DisabledReason, long LastModifiedTime);

/// <summary>The provider-side view of the key object (contract A3 without keyValue).</summary>
public sealed record ProviderKeyView(long Id, string KeyType, string[] Permissions, bool Enabled, string Status,
    string? DisabledReason, long LastModifiedTime, ModifiedBy LastModifiedBy, string PartnerUrl)
{
    private static readonly string[] All = ["ALL"];

    public static ProviderKeyView From(OrgSnapshot org, KeySnapshot k, long nowMs)
    {
        var status = org.StatusOf(k, nowMs);
        return new(k.Id, k.Type.ToString(), All, status == KeyStatus.ENABLED, status.ToString(), k.DisabledReason?.ToString(),
            k.LastModifiedAtMs / 1000, new ModifiedBy(k.LastModifiedById, k.LastModifiedByName), "");
    }
}

public sealed record OrganizationView(long Id, string Name, long? ServiceProviderId, string BaseUrl, SubscriptionView Subscription,
    LimitsView Limits, bool EndSessionsOnKeyChange, int PasswordExpiryDays, bool Suspended, KeyStatusView[] Keys)
{
    public static OrganizationView From(OrgSnapshot o, long nowMs) => new(o.OrgId, o.Name, o.ServiceProviderId, o.BaseUrl,
        new SubscriptionView(o.SubscriptionEnabled, o.ExpiresAt), LimitsView.From(o.Limits), o.EndSessionsOnKeyChange, o.PasswordExpiryDays, o.Suspended,
        new[] { o.Cloud, o.Sandbox }.OfType<KeySnapshot>()
            .Select(k => new KeyStatusView(k.Id, k.Type.ToString(), o.StatusOf(k, nowMs).ToString(), k.DisabledReason?.ToString(), k.LastModifiedAtMs / 1000))
            .ToArray());
}
