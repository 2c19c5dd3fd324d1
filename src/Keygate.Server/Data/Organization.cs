namespace Keygate.Data;

public sealed class ServiceProvider
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public long CreatedAtMs { get; set; }
}

public sealed class Organization
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public long? ServiceProviderId { get; set; }
    public string BaseUrl { get; set; } = "";
    public bool SubscriptionEnabled { get; set; }
    /// <summary>Epoch seconds; null means the subscription never expires.</summary>
    public long? SubscriptionExpiresAt { get; set; }
    /// <summary>The expiresAt whose passing was last announced (subscription.expired); a renewal to a later one is announced again.</summary>
    public long? ExpiryNotifiedAt { get; set; }
    public bool EndSessionsOnKeyChange { get; set; }
    /// <summary>Days an admin password lasts (contract A8); 0 means it never expires.</summary>
    public int PasswordExpiryDays { get; set; }
    /// <summary>Suspended by the provider side: every legacy request and login is refused ORG_SUSPENDED (contract B).</summary>
    public bool Suspended { get; set; }
    /// <summary>The expiresAt for which subscription.expiring was last announced 14 days before, and 1 day before.</summary>
    public long? ExpiringNotified14At { get; set; }
    public long? ExpiringNotified1At { get; set; }
    public OrgLimits Limits { get; set; } = new();
    /// <summary>
    /// Bumped by every change to the org or its keys. It is the optimistic concurrency token that serialises
    /// changes per org, and it orders the snapshots in <see cref="OrgStateCache"/> so an older one never wins.
    /// </summary>
    public long StateVersion { get; set; }
    /// <summary>
    /// The StateVersion at which sessions of the org were last ended one by one (logout, end all). A node
    /// of a cluster re-checks a cached session against the database when this is newer than its check.
    /// </summary>
    public long SessionsEndedVersion { get; set; }
    /// <summary>When StateVersion last moved; lets cluster nodes re-announce recent versions a dead writer never published.</summary>
    public long StateChangedAtMs { get; set; }
    public long CreatedAtMs { get; set; }
    public List<ApiKey> Keys { get; set; } = [];
    /// <summary>The org's admins (accounts of kind OrgAdmin) and roles: the org's snapshot carries them to the hot path.</summary>
    public List<Account> Admins { get; set; } = [];
    public List<Role> Roles { get; set; } = [];
}

/// <summary>Metering limits of one org (contract A5/B). Stored as columns of the org row.</summary>
public sealed class OrgLimits
{
    public long CallThreshold { get; set; } = 100_000;
    public long ThresholdWindowSeconds { get; set; } = 86_400;
    public int WarnAtPercent { get; set; } = 80;
    public int LightPerSecond { get; set; } = 2;
    public int LightPerHour { get; set; } = 1000;
    public int MediumPerSecond { get; set; } = 1;
    public int MediumPerHour { get; set; } = 400;
    public int HeavyPerMinute { get; set; } = 1;
    public int HeavyPerHour { get; set; } = 4;
    public int SandboxDailyQuota { get; set; } = 100;

    public OrgLimits Clone() => (OrgLimits)MemberwiseClone();
}
