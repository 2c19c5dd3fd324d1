using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

namespace Keygate;

/// <summary>
/// The in-process picture of every org the node has seen, so the hot path needs no database round trip.
/// The lifecycle publishes a new snapshot after its commit and before it returns, which is what makes a
/// change visible "immediately" on this node. Snapshots are ordered by the org's StateVersion: a slower
/// reader that loaded an older state can never overwrite a newer one. On a cluster node every read also
/// asks <see cref="SharedVersions"/> for the newest committed version, and reloads when the snapshot is older.
/// </summary>
public sealed class OrgStateCache(IServiceScopeFactory scopes, KeyVault vault, SharedVersions? shared = null)
{
    private readonly ConcurrentDictionary<long, OrgSnapshot> _orgs = new();

    public int Count => _orgs.Count;

    public ValueTask<OrgSnapshot?> GetAsync(long orgId, CancellationToken ct = default)
    {
        _orgs.TryGetValue(orgId, out var cached);
        if (shared is not null) return FreshAsync(orgId, cached, shared, ct);
        return cached is not null ? ValueTask.FromResult<OrgSnapshot?>(cached) : new(LoadAsync(orgId, ct));
    }

    private async ValueTask<OrgSnapshot?> FreshAsync(long orgId, OrgSnapshot? cached, SharedVersions versions, CancellationToken ct)
    {
        var newest = await versions.CurrentAsync(orgId, ct);
        if (newest < 0) return null;
        return cached is not null && cached.StateVersion >= newest ? cached : await LoadAsync(orgId, ct);
    }

    public void Publish(OrgSnapshot snapshot)
    {
        while (true)
        {
            if (!_orgs.TryGetValue(snapshot.OrgId, out var current))
            {
                if (_orgs.TryAdd(snapshot.OrgId, snapshot)) return;
                continue;
            }
            if (current.StateVersion >= snapshot.StateVersion) return;
            if (_orgs.TryUpdate(snapshot.OrgId, snapshot, current)) return;
        }
    }

    /// <summary>Publishes a committed snapshot here and, on a cluster, to every node; returns once all will see it.</summary>
    public async ValueTask PublishEverywhereAsync(OrgSnapshot snapshot)
    {
        Publish(snapshot);
        if (shared is not null) await shared.PublishAsync(snapshot.OrgId, snapshot.StateVersion);
    }

    /// <summary>Forgets an org so the next read reloads it (used when another node may have changed it).</summary>
    public void Forget(long orgId) => _orgs.TryRemove(orgId, out _);

    private async Task<OrgSnapshot?> LoadAsync(long orgId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var org = await db.Organizations.AsNoTracking().Include(o => o.Keys).FirstOrDefaultAsync(o => o.Id == orgId, ct);
        if (org is null) return null;
        var snapshot = OrgSnapshot.From(org, vault);
        Publish(snapshot);
        return _orgs.TryGetValue(orgId, out var latest) ? latest : snapshot;
    }
}
