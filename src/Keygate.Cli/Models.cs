namespace Keygate.Cli;

// The few shapes of the wire contract that the CLI prints as tables. With --json it prints the server's body as is.

public sealed record ModifiedBy(long Id, string? Name);

/// <summary>The key object of the legacy API (contract A3), and its provider-side view without keyValue.</summary>
public sealed record ApiKey(long Id, string? KeyValue, string KeyType, bool Enabled, string Status, string? DisabledReason,
    long LastModifiedTime, ModifiedBy? LastModifiedBy);

public sealed record RateUsage(int PerSecond, int PerMinute, int PerHour, long UsedThisSecond, long UsedThisMinute, long UsedThisHour);
public sealed record RatesUsage(RateUsage Light, RateUsage Medium, RateUsage Heavy);
public sealed record SandboxUsage(int DailyQuota, long UsedToday);
public sealed record Usage(long WindowStart, long WindowSeconds, long Calls, long Threshold, long Remaining, int WarnAtPercent,
    RatesUsage Rates, SandboxUsage Sandbox);

public sealed record Subscription(bool Enabled, long? ExpiresAt);
public sealed record Threshold(long Calls, long WindowSeconds, int WarnAtPercent);
public sealed record Rate(int PerSecond, int PerMinute, int PerHour);
public sealed record Rates(Rate Light, Rate Medium, Rate Heavy);
public sealed record Limits(Threshold CallThreshold, Rates Rates, int SandboxDailyQuota);
public sealed record KeyStatus(long Id, string KeyType, string Status, string? DisabledReason, long LastModifiedTime);
public sealed record Organization(long Id, string Name, long? ServiceProviderId, string? BaseUrl, Subscription Subscription,
    Limits Limits, bool EndSessionsOnKeyChange, KeyStatus[] Keys, bool Suspended = false);

public sealed record ProviderTokenInfo(long Id, string Name, string Prefix, long? ServiceProviderId, long CreatedAt, long? ExpiresAt, long? LastUsedAt,
    long? RevokedAt, string? Token = null);

public sealed record AuditItem(long Id, long Time, string Actor, string Action, long? KeyId, string Outcome, string? ClientAddress, string? Detail);
public sealed record AuditPage(AuditItem[] Items, string? Next);

public sealed record RoleRef(long Id, string? Name);
/// <summary>An admin user and an admin role of the legacy API (contract A8).</summary>
public sealed record AdminUser(long Id, string LoginName, string? UserName, string? Email, RoleRef? Role, bool Disabled, bool IsPasswordExpired,
    long PwdLastModifiedTime, string? Comments);
public sealed record AdminRole(long Id, string Name, int Rank, string RoleType, bool IsAuditor, bool IsNonEditable,
    Dictionary<string, string> FeaturePermissions);
