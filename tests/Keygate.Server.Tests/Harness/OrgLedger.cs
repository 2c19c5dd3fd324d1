using Microsoft.EntityFrameworkCore;

namespace Keygate.Tests;

public sealed record LedgerKey(long Id, KeyType Type, long Version, string Value, DisabledReason? DisabledReason);

public sealed record LedgerEvent(long Id, string Action, long? KeyId, string Outcome);

/// <summary>
/// One org as the database holds it, read directly rather than through a node, so the fault tests can tell
/// what was really committed: the org's StateVersion, its keys (with their decrypted values) and its audit
/// events. <see cref="AssertConsistent"/> holds the rule "every change fully there or not at all".
/// </summary>
public sealed record OrgLedger(long StateVersion, IReadOnlyList<LedgerKey> Keys, IReadOnlyList<LedgerEvent> Events)
{
    /// <summary>The actions of KeyLifecycle's one-transaction changes: each success bumps StateVersion once.</summary>
    private static readonly HashSet<string> Changes =
    [
        "key.add", "key.edit", "key.regenerate", "key.delete", "key.disable", "key.enable",
        "subscription.update", "organization.update", "limits.update",
    ];

    public IEnumerable<LedgerEvent> Successes => Events.Where(e => e.Outcome == AuditLog.Success);

    public LedgerKey? Cloud => Keys.SingleOrDefault(k => k.Type == KeyType.CLOUD_SERVICE);

    public LedgerKey? Sandbox => Keys.SingleOrDefault(k => k.Type == KeyType.SANDBOX_SUBMISSION);

    /// <summary>Reads the org; a key whose ciphertext does not open (a half-written key) fails the read.</summary>
    public static async Task<OrgLedger> ReadAsync(AppDbContext db, long orgId, KeyVault vault)
    {
        var org = await db.Organizations.AsNoTracking().Include(o => o.Keys).SingleAsync(o => o.Id == orgId);
        var keys = org.Keys.OrderBy(k => k.Id)
            .Select(k => new LedgerKey(k.Id, k.KeyType, k.Version, vault.Decrypt(k.Ciphertext, k.Id, k.Version), k.DisabledReason))
            .ToList();
        var events = await db.AuditEvents.AsNoTracking().Where(e => e.OrganizationId == orgId).OrderBy(e => e.Id)
            .Select(e => new LedgerEvent(e.Id, e.Action, e.KeyId, e.Outcome)).ToListAsync();
        return new OrgLedger(org.StateVersion, keys, events);
    }

    /// <summary>
    /// No change without its success event and no success event without its change: the StateVersion counts
    /// the changes, each key's version counts its value changes, every live key was added and none that was
    /// deleted is still there, and the disabled state is the one the last disable or enable left.
    /// </summary>
    public void AssertConsistent()
    {
        var successes = Successes.ToList();
        Assert.Equal(successes.Count(e => Changes.Contains(e.Action)), StateVersion);
        var touched = successes.Where(e => e.KeyId is not null).Select(e => e.KeyId!.Value).Concat(Keys.Select(k => k.Id)).Distinct();
        foreach (var id in touched)
        {
            var of = successes.Where(e => e.KeyId == id).ToList();
            var key = Keys.SingleOrDefault(k => k.Id == id);
            var created = of.Count(e => e.Action is "key.add" or "key.provision");
            var deleted = of.Count(e => e.Action == "key.delete");
            Assert.True(created == 1, $"key {id}: {created} add events");
            Assert.True(deleted == (key is null ? 1 : 0), $"key {id} is {(key is null ? "gone" : "there")} with {deleted} delete events");
            if (key is null) continue;
            Assert.True(key.Version == 1 + of.Count(e => e.Action is "key.edit" or "key.regenerate"),
                $"key {id} is at version {key.Version} after {of.Count(e => e.Action is "key.edit" or "key.regenerate")} value changes");
            var lastSwitch = of.LastOrDefault(e => e.Action is "key.disable" or "key.enable")?.Action;
            Assert.True((key.DisabledReason is not null) == (lastSwitch == "key.disable"),
                $"key {id} is {(key.DisabledReason is null ? "enabled" : "disabled")} after {lastSwitch ?? "no disable"}");
        }
    }
}
