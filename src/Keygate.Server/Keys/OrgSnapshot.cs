using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;

namespace Keygate.Keys;

public enum KeyStatus { ENABLED, DISABLED, SUBSCRIPTION_EXPIRED }

public sealed record KeySnapshot(
    long Id, KeyType Type, string Value, long Version, long SessionFloorVersion,
    DisabledReason? DisabledReason, DisablerKind? DisabledBy,
    long LastModifiedAtMs, long LastModifiedById, string LastModifiedByName);

/// <summary>
/// One admin of the org as the hot path sees them: who, with which rights, and whether they may still act. A change
/// to any of it bumps the org's StateVersion, so it reaches every node like a key change (contract A8's "immediately").
/// </summary>
public sealed record AdminSnapshot(long Id, string Username, AdminRights Rights, bool Disabled, long PasswordChangedAtMs, bool PasswordMustChange)
{
    /// <summary>When the password expires (epoch ms), or null when the org's passwords never expire.</summary>
    public long? PasswordExpiresAtMs(int expiryDays) => expiryDays > 0 ? PasswordChangedAtMs + expiryDays * 86_400_000L : null;

    /// <summary>Contract A8: an expired or provider-reset password cannot log in until it is changed.</summary>
    public bool PasswordExpired(int expiryDays, long nowMs) => PasswordMustChange || PasswordExpiresAtMs(expiryDays) <= nowMs;
}

/// <summary>
/// An immutable picture of one org and its keys, as committed at <see cref="StateVersion"/>. The hot path
/// reads only this. Status is derived at the moment of the check, so expiry needs no job.
/// </summary>
public sealed record OrgSnapshot(
    long OrgId, long? ServiceProviderId, string Name, string BaseUrl,
    bool SubscriptionEnabled, long? ExpiresAt, bool EndSessionsOnKeyChange, OrgLimits Limits,
    long StateVersion, long SessionsEndedVersion, KeySnapshot? Cloud, KeySnapshot? Sandbox)
{
    /// <summary>Suspended by the provider side: the org refuses everything, whatever its keys say.</summary>
    public bool Suspended { get; init; }
    /// <summary>The org's admins by account id (disabled ones included: their sessions are refused by it).</summary>
    public IReadOnlyDictionary<long, AdminSnapshot> Admins { get; init; } = new Dictionary<long, AdminSnapshot>();
    public int PasswordExpiryDays { get; init; }

    /// <summary>The admin a session or portal login acts as, while they exist and are enabled.</summary>
    public AdminSnapshot? ActiveAdmin(long accountId) =>
        Admins.TryGetValue(accountId, out var a) && !a.Disabled ? a : null;

    /// <summary>Expired iff now ≥ expiresAt (epoch seconds); null never expires.</summary>
    public bool IsExpired(long nowMs) => ExpiresAt is { } at && nowMs >= at * 1000;

    /// <summary>
    /// The one rule of whether a key may be used now, and if not, which refusal answers (contract A2 step 6, A6, B):
    /// a suspended org first, then disabled, then no subscription, then expired. Every surface asks this (the session
    /// gate, the gateway, forward-auth, the sandbox, login), so a suspension needs no read of its own: it rides in the
    /// snapshot, and reaches every node with the org's StateVersion.
    /// </summary>
    public KeygateError? RefusalOf(KeySnapshot key, long nowMs) => Suspended ? KeygateError.OrgSuspended : KeyRefusalOf(key, nowMs);

    /// <summary>The key's own refusal, which its status shows: a suspension leaves the keys' status as it was.</summary>
    private KeygateError? KeyRefusalOf(KeySnapshot key, long nowMs) =>
        key.DisabledReason is not null ? KeygateError.KeyDisabled
        : !SubscriptionEnabled ? KeygateError.SubscriptionRequired
        : IsExpired(nowMs) ? KeygateError.SubscriptionExpired
        : null;

    public KeyStatus StatusOf(KeySnapshot key, long nowMs) => KeyRefusalOf(key, nowMs) switch
    {
        null => KeyStatus.ENABLED,
        var r when r == KeygateError.KeyDisabled => KeyStatus.DISABLED,
        _ => KeyStatus.SUBSCRIPTION_EXPIRED,
    };

    public KeySnapshot? Find(long keyId) =>
        Cloud?.Id == keyId ? Cloud : Sandbox?.Id == keyId ? Sandbox : null;

    public KeySnapshot? OfType(KeyType type) => type == KeyType.CLOUD_SERVICE ? Cloud : Sandbox;

    /// <summary>The org as loaded with its keys, admins and roles (<see cref="OrgStateCache.Including"/>).</summary>
    public static OrgSnapshot From(Organization org, KeyVault vault)
    {
        var rights = org.Roles.ToDictionary(r => r.Id, r => r.Rights());
        var admins = org.Admins.Where(a => a.Kind == AccountKind.OrgAdmin).ToDictionary(a => a.Id, a => new AdminSnapshot(a.Id, a.Username,
            a.RoleId is { } id && rights.TryGetValue(id, out var r) ? r : AdminRights.Nothing, a.Disabled, a.PasswordChangedAtMs, a.PasswordMustChange));
        KeySnapshot? Build(KeyType type) => org.Keys.FirstOrDefault(k => k.KeyType == type) is { } k
            ? new KeySnapshot(k.Id, k.KeyType, vault.Decrypt(k.Ciphertext, k.Id, k.Version), k.Version, k.SessionFloorVersion,
                k.DisabledReason, k.DisabledByKind, k.LastModifiedAtMs, k.LastModifiedById, k.LastModifiedByName)
            : null;
        return new OrgSnapshot(org.Id, org.ServiceProviderId, org.Name, org.BaseUrl, org.SubscriptionEnabled,
            org.SubscriptionExpiresAt, org.EndSessionsOnKeyChange, org.Limits.Clone(), org.StateVersion, org.SessionsEndedVersion,
            Build(KeyType.CLOUD_SERVICE), Build(KeyType.SANDBOX_SUBMISSION))
        {
            Suspended = org.Suspended, Admins = admins, PasswordExpiryDays = org.PasswordExpiryDays,
        };
    }
}

public sealed record ModifiedBy(long Id, string Name);
