using Keygate.Cluster;
using Keygate.Data;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;
using System.Collections.Concurrent;

namespace Keygate.Keys;

/// <summary>
/// The in-process picture of every org the node has seen, so the hot path needs no database round trip.
/// The lifecycle publishes a new snapshot after its commit and before it returns, which is what makes a
/// change visible "immediately" on this node. Snapshots are ordered by the org's StateVersion: a slower
/// reader that loaded an older state can never overwrite a newer one. On a cluster node every read also
/// asks <see cref="SharedVersions"/> for the newest committed version, and reloads when the snapshot is older.
/// </summary>
public sealed class OrgStateCache
{
    private readonly ConcurrentDictionary<long, OrgSnapshot> _orgs = new();
    private readonly IServiceScopeFactory scopes;
    private readonly KeyVault vault;
    private readonly SharedVersions? shared;
    private readonly NodeLease? lease;

    /// <summary>
    /// With a <paramref name="lease"/> (Keygate:Cluster:HotPath=Leases) the node answers from memory while its lease
    /// is live: every change waits until this node has forgotten the org it names (<see cref="NodeLease"/>).
    /// </summary>
    public OrgStateCache(IServiceScopeFactory scopes, KeyVault vault, SharedVersions? shared = null, NodeLease? lease = null)
    {
        (this.scopes, this.vault, this.shared, this.lease) = (scopes, vault, shared, lease);
        if (lease is null) return;
        lease.OrgChanged += ForgetOlder;
        lease.Lapsed += ForgetAll;
    }

    public int Count => _orgs.Count;

    public ValueTask<OrgSnapshot?> GetAsync(long orgId, CancellationToken ct = default)
    {
        _orgs.TryGetValue(orgId, out var cached);
        if (shared is not null && lease is not { Live: true }) return FreshAsync(orgId, cached, shared, ct);
        return cached is not null ? ValueTask.FromResult<OrgSnapshot?>(cached) : new(LoadAsync(orgId, ct));
    }

    private async ValueTask<OrgSnapshot?> FreshAsync(long orgId, OrgSnapshot? cached, SharedVersions versions, CancellationToken ct)
    {
        var newest = await versions.CurrentAsync(orgId, ct);
        if (newest < 0) return null;
        return cached is not null && cached.StateVersion >= newest ? cached : await LoadAsync(orgId, ct);
    }

    /// <summary>
    /// On a cluster node, while versions come from Redis: the snapshot this node holds, not checked against the
    /// newest version. A caller may accept a call on it only by passing its version to the count, which checks it
    /// in the same Redis round trip (<see cref="IUsageCounter.CountCallAsync"/>); any refusal it would decide on it
    /// must be decided again on <see cref="GetAsync"/>. Null on a single node, whose snapshots are always current.
    /// </summary>
    public OrgSnapshot? Unchecked(long orgId) =>
        shared is { Trusted: true } && lease is not { Live: true } && _orgs.TryGetValue(orgId, out var cached) ? cached : null;

    /// <summary>Another node changed the org to <paramref name="version"/>: a snapshot older than that (or a read in flight) is dropped.</summary>
    private void ForgetOlder(long orgId, long version)
    {
        if (_orgs.TryGetValue(orgId, out var cached) && cached.StateVersion >= version) return;
        Forget(orgId);
    }

    /// <summary>The node may have missed changes (its lease lapsed): every org is read again from the database.</summary>
    private void ForgetAll()
    {
        Interlocked.Increment(ref _forgets);
        _orgs.Clear();
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


    /// <summary>
    /// The org was deleted (its last version was <paramref name="lastVersion"/>): this node forgets it, and on a cluster a
    /// newer version is announced, so every node reloads it at its next request, finds nothing, and answers 404 or ends
    /// the session.
    /// </summary>
    public async ValueTask ForgetEverywhereAsync(long orgId, long lastVersion)
    {
        Forget(orgId);
        if (shared is not null) await shared.PublishAsync(orgId, lastVersion + 1);
    }

    private readonly ConcurrentDictionary<long, SemaphoreSlim> _changeTurns = new();

    /// <summary>
    /// Changes to one org take turns on this node (KeyLifecycle holds a turn for a whole change). Racing each other
    /// they would only collide on the StateVersion token and retry, and under a steady stream of changes a request
    /// could lose often enough to run out of attempts (a 500). Across nodes the token still decides. The wait is
    /// bounded: behind a database that hangs, a queue of changes answers 503 (a TimeoutException) rather than
    /// hanging one after another.
    /// </summary>
    public async Task<IDisposable> ChangeTurnAsync(long orgId)
    {
        var turn = _changeTurns.GetOrAdd(orgId, _ => new SemaphoreSlim(1, 1));
        if (!await turn.WaitAsync(TurnWait)) throw new TimeoutException($"Organization {orgId} is busy with other changes.");
        return new Turn(turn);
    }

    private static readonly TimeSpan TurnWait = TimeSpan.FromSeconds(15);

    private sealed class Turn(SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) turn.Release();
        }
    }

    /// <summary>
    /// Forgets an org so the next read reloads it: another node may have changed it, or a commit of this node
    /// failed without saying whether it happened.
    /// </summary>
    public void Forget(long orgId)
    {
        Interlocked.Increment(ref _forgets);
        _orgs.TryRemove(orgId, out _);
    }

    /// <summary>Counts <see cref="Forget"/> calls, so a read that began before one never caches what it read.</summary>
    private long _forgets;

    /// <summary>What a snapshot is made of: the org with its keys, admins and roles (one query each, not their product).</summary>
    public static IQueryable<Organization> Including(IQueryable<Organization> orgs) =>
        orgs.Include(o => o.Keys).Include(o => o.Admins).Include(o => o.Roles).AsSplitQuery();

    /// <summary>Reads the org afresh and publishes it here and on every node: after a change made outside the lifecycle (a new org).</summary>
    public async Task<OrgSnapshot?> ReloadEverywhereAsync(long orgId)
    {
        Forget(orgId);
        if (await LoadAsync(orgId, CancellationToken.None) is not { } snapshot) return null;
        await PublishEverywhereAsync(snapshot);
        return snapshot;
    }

    private async Task<OrgSnapshot?> LoadAsync(long orgId, CancellationToken ct)
    {
        var forgets = Interlocked.Read(ref _forgets);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var org = await Including(db.Organizations.AsNoTracking()).FirstOrDefaultAsync(o => o.Id == orgId, ct);
        if (org is null) return null;
        var snapshot = OrgSnapshot.From(org, vault);
        // The read may predate the change a Forget was about (StateVersion cannot tell: a commit whose outcome is
        // unknown was never published). Such a snapshot answers this request only; checked again after Publish,
        // as a Forget may slip in between.
        if (Interlocked.Read(ref _forgets) != forgets) return snapshot;
        Publish(snapshot);
        if (Interlocked.Read(ref _forgets) != forgets) _orgs.TryRemove(new KeyValuePair<long, OrgSnapshot>(orgId, snapshot));
        return _orgs.TryGetValue(orgId, out var latest) ? latest : snapshot;
    }
}
