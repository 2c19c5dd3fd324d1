using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Metering;
using Keygate.Secrets;
using Keygate.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Keys;

/// <summary>
/// Every rule of the key lifecycle, in one place that the portal, the legacy API and the provider API all
/// call. Each method checks the caller's rights and the key's state in the order of contract A4, applies the
/// change, writes its audit event in the same transaction, and publishes the new org snapshot before it
/// returns, so the old value is refused by the very next request.
/// </summary>
public sealed class KeyLifecycle(AppDbContext db, KeyVault vault, OrgStateCache cache, IUsageCounter usage,
    KeygateMetrics metrics, TimeProvider clock)
{
    private const int MaxAttempts = 8;

    private long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Result<KeySnapshot>> AddAsync(Actor actor, long orgId, KeyType type)
    {
        ApiKey? added = null;
        var result = await MutateAsync(actor, orgId, "key.add", null, (org, change) =>
        {
            var existing = org.Keys.FirstOrDefault(k => k.KeyType == type);
            if (OrgAdminGuard(actor, org, existing) is { } refusal) return refusal;
            if (existing is not null) return KeygateError.KeyAlreadyExists;
            added = NewKey(org, type, actor, change);
            change.Detail = type.ToString();
            return null;
        });
        return Pick(result, () => added!.Id);
    }

    public async Task<Result<KeySnapshot>> EditAsync(Actor actor, long orgId, long keyId, string? newValue)
    {
        var result = await MutateAsync(actor, orgId, "key.edit", keyId, (org, change) =>
        {
            var key = org.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) return KeygateError.NotFound;
            if (OrgAdminGuard(actor, org, key) is { } refusal) return refusal;
            if (key.KeyType != KeyType.CLOUD_SERVICE) return KeygateError.KeyNotEditable;
            if (!KeyValues.IsValidCloudServiceValue(newValue)) return KeygateError.InvalidKeyValue;
            if (vault.Decrypt(key.Ciphertext, key.Id, key.Version) == newValue) return KeygateError.KeyValueUnchanged;
            ChangeValue(org, key, newValue!, actor, change);
            return null;
        });
        return Pick(result, () => keyId);
    }

    public async Task<Result<KeySnapshot>> RegenerateAsync(Actor actor, long orgId, long keyId)
    {
        var result = await MutateAsync(actor, orgId, "key.regenerate", keyId, (org, change) =>
        {
            var key = org.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) return KeygateError.NotFound;
            if (OrgAdminGuard(actor, org, key) is { } refusal) return refusal;
            ChangeValue(org, key, KeyValues.Generate(key.KeyType), actor, change);
            return null;
        });
        return Pick(result, () => keyId);
    }

    public async Task<Result<OrgSnapshot>> DeleteAsync(Actor actor, long orgId, long keyId) =>
        await MutateAsync(actor, orgId, "key.delete", keyId, (org, change) =>
        {
            var key = org.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) return KeygateError.NotFound;
            if (OrgAdminGuard(actor, org, key) is { } refusal) return refusal;
            org.Keys.Remove(key);
            db.ApiKeys.Remove(key);
            change.Detail = key.KeyType.ToString();
            // The key's sessions end with it (contract A4); the hot path refuses them anyway because the
            // key id is gone from the snapshot, this only tidies the table.
            change.AfterSave.Add(() => db.LegacySessions.Where(s => s.KeyId == keyId).ExecuteDeleteAsync());
            return null;
        });

    public async Task<Result<KeySnapshot>> DisableAsync(Actor actor, long orgId, long keyId, DisabledReason reason, string? note)
    {
        var result = await MutateAsync(actor, orgId, "key.disable", keyId, (org, change) =>
        {
            var key = org.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) return KeygateError.NotFound;
            if (!actor.IsProviderSide && actor.Kind != ActorKind.Keygate) return KeygateError.AccessDenied;
            // Only Keygate itself disables for the threshold; people give a reason of their own.
            if ((reason == DisabledReason.THRESHOLD_EXCEEDED) != (actor.Kind == ActorKind.Keygate))
                return KeygateError.Invalid("reason", "reason must be TERMS_VIOLATION or OTHER.");
            if (key.DisabledReason is not null) { change.NoOp = true; return null; }
            key.DisabledReason = reason;
            key.DisabledByKind = actor.Kind switch
            {
                ActorKind.Operator => DisablerKind.Operator,
                ActorKind.ServiceProvider => DisablerKind.ServiceProvider,
                _ => DisablerKind.Keygate,
            };
            key.DisabledByName = actor.Name;
            key.DisabledNote = note;
            key.DisabledAtMs = NowMs;
            Touch(key, actor);
            change.Detail = reason.ToString();
            WebhookOutbox.Add(db, WebhookOutbox.KeyDisabled, org.Id, org.ServiceProviderId,
                new { keyId = key.Id, keyType = key.KeyType.ToString(), reason = reason.ToString(), disabledBy = actor.Name }, NowMs);
            return null;
        });
        return Pick(result, () => keyId);
    }

    public async Task<Result<KeySnapshot>> EnableAsync(Actor actor, long orgId, long keyId)
    {
        var result = await MutateAsync(actor, orgId, "key.enable", keyId, (org, change) =>
        {
            var key = org.Keys.FirstOrDefault(k => k.Id == keyId);
            if (key is null) return KeygateError.NotFound;
            if (!actor.IsProviderSide) return KeygateError.AccessDenied;
            if (key.DisabledReason is null) { change.NoOp = true; return null; }
            // A service provider may not overrule the operator.
            if (key.DisabledByKind == DisablerKind.Operator && actor.Kind != ActorKind.Operator) return KeygateError.AccessDenied;
            change.Detail = $"was {key.DisabledReason}";
            WebhookOutbox.Add(db, WebhookOutbox.KeyEnabled, org.Id, org.ServiceProviderId,
                new { keyId = key.Id, keyType = key.KeyType.ToString(), previousReason = key.DisabledReason.ToString(), enabledBy = actor.Name }, NowMs);
            if (key.DisabledReason == DisabledReason.THRESHOLD_EXCEEDED && key.KeyType == KeyType.CLOUD_SERVICE)
            {
                // Enabling after the threshold starts a fresh window, or the next call would disable the key again.
                db.AuditEvents.Add(AuditLog.Event(actor, org.Id, "usage.window_reset", key.Id, AuditLog.Success, NowMs));
                // The reset is written in the enable's transaction (a crash after the commit keeps it), then applied.
                var orgId = org.Id;
                Func<ValueTask> apply = () => ValueTask.CompletedTask;
                change.AfterSave.Add(async () => { apply = await usage.ResetThresholdAsync(db, orgId, NowMs); return 0; });
                change.AfterCommit.Add(() => apply());
            }
            key.DisabledReason = null;
            key.DisabledByKind = null;
            key.DisabledByName = null;
            key.DisabledNote = null;
            key.DisabledAtMs = null;
            Touch(key, actor);
            return null;
        });
        return Pick(result, () => keyId);
    }

    /// <summary>
    /// Subscription changes (provider side). Turning the subscription on provisions an enabled Cloud Service
    /// key when there is none; a later expiry renews and brings the kept key back exactly as it was, which
    /// includes a provider's separate disable (it lives on the key, not on the subscription).
    /// </summary>
    public Task<Result<OrgSnapshot>> SetSubscriptionAsync(Actor actor, long orgId, bool enabled, long? expiresAt) =>
        MutateAsync(actor, orgId, "subscription.update", null, (org, change) =>
        {
            if (!actor.IsProviderSide) return KeygateError.AccessDenied;
            var wasEnabled = org.SubscriptionEnabled;
            org.SubscriptionEnabled = enabled;
            org.SubscriptionExpiresAt = expiresAt;
            change.Detail = $"enabled={enabled} expiresAt={expiresAt?.ToString() ?? "never"}";
            if (enabled && !wasEnabled && org.Keys.All(k => k.KeyType != KeyType.CLOUD_SERVICE))
            {
                var key = NewKey(org, KeyType.CLOUD_SERVICE, actor, change);
                change.Detail += " provisioned=CLOUD_SERVICE";
                change.AfterSave.Add(() =>
                {
                    db.AuditEvents.Add(AuditLog.Event(actor, org.Id, "key.provision", key.Id, AuditLog.Success, NowMs, "CLOUD_SERVICE"));
                    return Task.FromResult(0);
                });
            }
            return null;
        });

    public Task<Result<OrgSnapshot>> UpdateOrganizationAsync(Actor actor, long orgId, string? name, string? baseUrl, bool? endSessionsOnKeyChange,
        int? passwordExpiryDays = null) =>
        MutateAsync(actor, orgId, "organization.update", null, (org, change) =>
        {
            // Org admins may choose only how their own sessions behave (a key setting: APIKEY_MANAGEMENT READ_WRITE); naming,
            // the base URL and password expiry are the provider's.
            if (actor.Kind == ActorKind.OrgAdmin && (name is not null || baseUrl is not null || passwordExpiryDays is not null || !actor.Rights.CanChangeKeys))
                return KeygateError.AccessDenied;
            if (actor.Kind == ActorKind.OrgAdmin && org.Suspended) return KeygateError.OrgSuspended;
            if (name is not null) org.Name = name;
            if (baseUrl is not null) org.BaseUrl = baseUrl;
            if (endSessionsOnKeyChange is { } end) org.EndSessionsOnKeyChange = end;
            if (passwordExpiryDays is { } days) org.PasswordExpiryDays = days;
            change.Detail = string.Join(' ', new[]
            {
                name is null ? null : "name", baseUrl is null ? null : "baseUrl",
                endSessionsOnKeyChange is null ? null : $"endSessionsOnKeyChange={endSessionsOnKeyChange}",
                passwordExpiryDays is null ? null : $"passwordExpiryDays={passwordExpiryDays}",
            }.Where(x => x is not null));
            return null;
        });

    /// <summary>
    /// Suspends (or resumes) the org (contract B). The flag lives in the org snapshot, so the publish below is what makes
    /// every node refuse the org's next request with ORG_SUSPENDED; repeating either is a no-op.
    /// </summary>
    public Task<Result<OrgSnapshot>> SetSuspendedAsync(Actor actor, long orgId, bool suspended, string? note) =>
        MutateAsync(actor, orgId, suspended ? "org.suspend" : "org.resume", null, (org, change) =>
        {
            if (!actor.IsProviderSide) return KeygateError.AccessDenied;
            if (org.Suspended == suspended) { change.NoOp = true; return null; }
            org.Suspended = suspended;
            change.Detail = note ?? "";
            WebhookOutbox.Add(db, suspended ? WebhookOutbox.OrgSuspended : WebhookOutbox.OrgResumed, org.Id, org.ServiceProviderId,
                new { by = actor.Name, note }, NowMs);
            return null;
        });

    public Task<Result<OrgSnapshot>> SetLimitsAsync(Actor actor, long orgId, Action<OrgLimits> apply) =>
        MutateAsync(actor, orgId, "limits.update", null, (org, change) =>
        {
            if (!actor.IsProviderSide) return KeygateError.AccessDenied;
            apply(org.Limits);
            return null;
        });

    /// <summary>
    /// What an org admin may change, in the order of contract A4 after "key not in org". The portal asks the
    /// same question to decide which buttons to show, so the page and the rule cannot drift apart.
    /// A disabled Cloud Service key freezes every key change of the org, the sandbox key's (and adding one)
    /// included, so an org the provider stopped cannot hand out fresh credentials meanwhile; a disabled
    /// sandbox key freezes only itself.
    /// </summary>
    /// <param name="keyDisabled">The key to change is disabled (false when one is being added).</param>
    /// <param name="cloudDisabled">The org's Cloud Service key exists and is disabled.</param>
    public static KeygateError? OrgAdminRefusal(Actor actor, bool subscriptionEnabled, long? expiresAt, bool keyDisabled, bool cloudDisabled, long nowMs)
    {
        if (actor.Kind != ActorKind.OrgAdmin || !actor.Rights.CanChangeKeys) return KeygateError.AccessDenied;
        if (!subscriptionEnabled) return KeygateError.SubscriptionRequired;
        if (expiresAt is { } at && nowMs >= at * 1000) return KeygateError.SubscriptionExpiredConflict;
        if (keyDisabled || cloudDisabled) return KeygateError.KeyDisabledConflict;
        return null;
    }

    private KeygateError? OrgAdminGuard(Actor actor, Organization org, ApiKey? key) =>
        actor.Kind == ActorKind.OrgAdmin && org.Suspended ? KeygateError.OrgSuspended : OrgAdminRefusal(actor, org.SubscriptionEnabled, org.SubscriptionExpiresAt, key?.DisabledReason is not null,
            org.Keys.Any(k => k.KeyType == KeyType.CLOUD_SERVICE && k.DisabledReason is not null), NowMs);

    private ApiKey NewKey(Organization org, KeyType type, Actor actor, Change change)
    {
        var value = KeyValues.Generate(type);
        var key = new ApiKey { OrganizationId = org.Id, KeyType = type, CreatedAtMs = NowMs };
        if (type == KeyType.SANDBOX_SUBMISSION) key.LookupHash = vault.LookupHash(value);
        Touch(key, actor);
        org.Keys.Add(key);
        change.NewValues.Add((key, value));
        change.NewKey = key;
        return key;
    }

    private void ChangeValue(Organization org, ApiKey key, string value, Actor actor, Change change)
    {
        key.Version++;
        if (org.EndSessionsOnKeyChange)
        {
            key.SessionFloorVersion = key.Version;
            var (id, floor) = (key.Id, key.SessionFloorVersion);
            change.AfterSave.Add(() => db.LegacySessions.Where(s => s.KeyId == id && s.KeyVersion < floor).ExecuteDeleteAsync());
        }
        if (key.KeyType == KeyType.SANDBOX_SUBMISSION) key.LookupHash = vault.LookupHash(value);
        change.NewValues.Add((key, value));
        Touch(key, actor);
    }

    private void Touch(ApiKey key, Actor actor)
    {
        key.LastModifiedAtMs = NowMs;
        (key.LastModifiedById, key.LastModifiedByName) = actor.ModifiedBy;
    }

    private sealed class Change
    {
        public bool NoOp;
        public string Detail = "";
        public ApiKey? NewKey;
        public readonly List<(ApiKey Key, string Value)> NewValues = [];
        public readonly List<Func<Task<int>>> AfterSave = [];
        public readonly List<Func<ValueTask>> AfterCommit = [];
    }

    private static Result<KeySnapshot> Pick(Result<OrgSnapshot> result, Func<long> keyId) =>
        result.Error is { } e ? e : result.Value!.Find(keyId()) is { } k ? k : KeygateError.NotFound;

    /// <summary>
    /// Loads the org, lets <paramref name="apply"/> check and change it, and commits with the org's
    /// StateVersion as concurrency token. On this node changes to one org take turns; a concurrent change from
    /// another node makes the save fail, and the whole decision is taken again on fresh data: so two racing adds
    /// give one key and one 409, and racing regenerates leave the value of the last commit both in the database
    /// and in the snapshot.
    /// </summary>
    private async Task<Result<OrgSnapshot>> MutateAsync(Actor actor, long orgId, string action, long? keyId,
        Func<Organization, Change, KeygateError?> apply)
    {
        using var span = KeygateTrace.Source.StartActivity("keygate.change");
        span?.SetTag("keygate.action", action);
        span?.SetTag("keygate.org_id", orgId);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var turn = await cache.ChangeTurnAsync(orgId);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var org = await OrgStateCache.Including(db.Organizations).FirstOrDefaultAsync(o => o.Id == orgId);
            if (org is null || !actor.CanSee(org.Id, org.ServiceProviderId)) return KeygateError.NotFound;

            var change = new Change();
            if (apply(org, change) is { } refusal)
            {
                await AuditLog.RefusedAsync(db, actor, orgId, action, keyId, refusal, NowMs);
                return refusal;
            }
            if (change.NoOp) return OrgSnapshot.From(org, vault);

            org.StateVersion++;
            org.StateChangedAtMs = NowMs;
            var audit = AuditLog.Event(actor, orgId, action, keyId, AuditLog.Success, NowMs, change.Detail);
            db.AuditEvents.Add(audit);
            try
            {
                using var commitSpan = KeygateTrace.Source.StartActivity("keygate.change.commit");
                commitSpan?.SetTag("keygate.attempt", attempt);
                await using var tx = await db.Database.BeginTransactionAsync();
                // Keys are encrypted under their own id, which a new key only has after the first save.
                foreach (var (key, value) in change.NewValues.Where(n => n.Key.Id != 0))
                    key.Ciphertext = vault.Encrypt(value, key.Id, key.Version);
                await db.SaveChangesAsync();
                if (change.NewKey is { } added)
                {
                    added.Ciphertext = vault.Encrypt(change.NewValues.First(n => n.Key == added).Value, added.Id, added.Version);
                    audit.KeyId ??= added.Id;
                }
                foreach (var step in change.AfterSave) await step();
                await db.SaveChangesAsync();
                try
                {
                    await tx.CommitAsync();
                }
                catch
                {
                    // The database may have committed and only its answer been lost (a dropped connection): this
                    // node must not go on serving the snapshot from before, so it reads the org afresh next time.
                    cache.Forget(orgId);
                    throw;
                }
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 5 * attempt));
                continue;
            }
            catch (DbUpdateException e) when (Db.IsUniqueViolation(e) && attempt < MaxAttempts)
            {
                continue;
            }

            foreach (var step in change.AfterCommit) await step();
            var snapshot = OrgSnapshot.From(org, vault);
            using (KeygateTrace.Source.StartActivity("keygate.change.publish"))
                await cache.PublishEverywhereAsync(snapshot);
            var tag = KeygateMetrics.Tag("action", action);
            metrics.Changes.Add(1, tag);
            metrics.ChangeDuration.Record(KeygateMetrics.SecondsSince(started), tag);
            return snapshot;
        }
    }
}
