using Keygate.Cluster;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Sessions;

/// <summary>One live legacy session as the hot path sees it.</summary>
public sealed class SessionEntry(byte[] idHash, long orgId, long accountId, string username,
    long keyId, long keyVersion, long createdAtMs, long lastSeenMs, string clientAddress)
{
    public byte[] IdHash { get; } = idHash;
    public long OrganizationId { get; } = orgId;
    public long AccountId { get; } = accountId;
    public string Username { get; } = username;
    public long KeyId { get; } = keyId;
    public long KeyVersion { get; } = keyVersion;
    public long CreatedAtMs { get; } = createdAtMs;
    public string ClientAddress { get; } = clientAddress;
    private long _lastSeenMs = lastSeenMs;
    /// <summary>The last-seen time the database has; it is refreshed when it falls a minute behind.</summary>
    internal long PersistedLastSeenMs = lastSeenMs;
    public long LastSeenMs => Interlocked.Read(ref _lastSeenMs);
    public void Touch(long nowMs) => Interlocked.Exchange(ref _lastSeenMs, nowMs);
    /// <summary>On a cluster node: the org's StateVersion when this session was last found in the database.</summary>
    internal long VerifiedVersion;
}

/// <summary>
/// Live legacy sessions, held in memory and mirrored in the database (so a restart keeps them). The
/// session id is only ever stored as its SHA-256; in memory the first 128 bits of that hash are the key,
/// which keeps lookups allocation-free.
/// On a cluster node (<paramref name="shared"/> set) the database is the shared truth: a session opened on
/// another node is loaded from it on first use, and ending sessions bumps the org's version so every other
/// node re-checks its copies before it accepts them again.
/// </summary>
public sealed class SessionStore(IServiceScopeFactory scopes, TimeProvider clock, IOptions<KeygateOptions> options, ILogger<SessionStore> log,
    SharedVersions? shared = null) : BackgroundService
{
    private readonly ConcurrentDictionary<UInt128, SessionEntry> _sessions = new();
    private long IdleMs => options.Value.SessionIdleMinutes * 60_000L;
    private long MaxAgeMs => options.Value.SessionMaxHours * 3_600_000L;

    public int Count => _sessions.Count;

    public static string NewId() => RandomNumberGenerator.GetHexString(32); // 128 bits from the CSPRNG

    public static byte[] Hash(string id) => SHA256.HashData(Encoding.ASCII.GetBytes(id));

    public void Add(SessionEntry entry) => _sessions[KeyOf(entry.IdHash)] = entry;

    /// <summary>The session in this node's memory (the hot path's allocation-free lookup).</summary>
    public SessionEntry? Find(ReadOnlySpan<char> id)
    {
        Span<byte> hash = stackalloc byte[32];
        return HashOf(id, hash) && _sessions.TryGetValue(KeyOf(hash), out var e) ? e : null;
    }

    /// <summary>The entry this node holds now for <paramref name="e"/>'s session id (the same or a reloaded one), if any.</summary>
    public SessionEntry? Current(SessionEntry e) => _sessions.TryGetValue(KeyOf(e.IdHash), out var now) ? now : null;

    /// <summary>The session in memory, or on a cluster node also one that another node opened.</summary>
    public ValueTask<SessionEntry?> FindAsync(ReadOnlySpan<char> id, CancellationToken ct = default)
    {
        Span<byte> hash = stackalloc byte[32];
        if (!HashOf(id, hash)) return default;
        if (_sessions.TryGetValue(KeyOf(hash), out var e)) return ValueTask.FromResult<SessionEntry?>(e);
        return shared is null ? default : new(LoadOneAsync(hash.ToArray(), ct));
    }

    private static bool HashOf(ReadOnlySpan<char> id, Span<byte> hash)
    {
        if (id.Length is 0 or > 128) return false;
        Span<byte> ascii = stackalloc byte[id.Length];
        for (var i = 0; i < id.Length; i++) ascii[i] = (byte)(id[i] < 128 ? id[i] : '?');
        SHA256.HashData(ascii, hash);
        return true;
    }

    private async Task<SessionEntry?> LoadOneAsync(byte[] hash, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // The org's version is read in the same statement, so a later "end" is seen as newer than this check.
        var r = await db.LegacySessions.AsNoTracking().Where(s => s.IdHash == hash)
            .Join(db.Accounts, s => s.AccountId, a => a.Id, (s, a) => new { s, a.Username })
            .Join(db.Organizations, x => x.s.OrganizationId, o => o.Id, (x, o) => new { x.s, x.Username, o.StateVersion })
            .FirstOrDefaultAsync(ct);
        if (r is null) return null;
        var entry = EntryOf(r.s, r.Username);
        entry.VerifiedVersion = r.StateVersion;
        if (IsOver(entry, clock.GetUtcNow().ToUnixTimeMilliseconds())) return null;
        return _sessions.GetOrAdd(KeyOf(hash), entry);
    }

    /// <summary>
    /// On a cluster node: is a session this node holds still in the database, now that the org says sessions
    /// were ended since it last looked? <paramref name="orgVersion"/> must have been read before this call.
    /// </summary>
    public ValueTask<bool> StillLiveAsync(SessionEntry e, OrgSnapshot org, CancellationToken ct) =>
        // Every call asks, so the common answer must not allocate: the lambda below captures e, and a captured
        // parameter is moved into a closure object at the start of the method that holds it, even on an early return.
        shared is null || e.VerifiedVersion >= org.SessionsEndedVersion ? ValueTask.FromResult(true) : StillInDatabaseAsync(e, org, ct);

    private async ValueTask<bool> StillInDatabaseAsync(SessionEntry e, OrgSnapshot org, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (!await db.LegacySessions.AnyAsync(s => s.IdHash == e.IdHash, ct))
        {
            Forget(e);
            return false;
        }
        e.VerifiedVersion = org.StateVersion;
        return true;
    }

    public bool IsIdle(SessionEntry e, long nowMs) => nowMs - e.LastSeenMs >= IdleMs;

    /// <summary>Past its absolute lifetime (Keygate:SessionMaxHours after the login), whatever its activity on any node.</summary>
    public bool IsPastMaxAge(SessionEntry e, long nowMs) => nowMs - e.CreatedAtMs >= MaxAgeMs;

    /// <summary>Ended by time: idle on this node, or past its lifetime.</summary>
    private bool IsOver(SessionEntry e, long nowMs) => IsIdle(e, nowMs) || IsPastMaxAge(e, nowMs);

    /// <summary>
    /// Idle as far as every node knows? On a cluster node another node may have used the session: the
    /// database's last-seen (written at least once a minute) is taken into account before giving up on it.
    /// </summary>
    public ValueTask<bool> IdleEverywhereAsync(SessionEntry e, long nowMs, CancellationToken ct) =>
        !IsIdle(e, nowMs) ? ValueTask.FromResult(false) : shared is null ? ValueTask.FromResult(true) : IdleInDatabaseAsync(e, nowMs, ct);

    private async ValueTask<bool> IdleInDatabaseAsync(SessionEntry e, long nowMs, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var seen = await db.LegacySessions.Where(s => s.IdHash == e.IdHash).Select(s => (long?)s.LastSeenAtMs).FirstOrDefaultAsync(ct);
        if (seen is { } ms && ms > e.LastSeenMs)
        {
            e.Touch(ms);
            e.PersistedLastSeenMs = ms;
        }
        return IsIdle(e, nowMs);
    }

    /// <summary>
    /// Opens a session on the org's Cloud Service key as it is now: the row (only the id's hash) and its audit event
    /// in one transaction, then memory. Returns the id the client gets.
    /// </summary>
    public async Task<string> OpenAsync(AppDbContext db, Account account, OrgSnapshot org, KeySnapshot key, string clientAddress,
        AuditEvent audit, long nowMs)
    {
        var id = NewId();
        var row = new LegacySession
        {
            IdHash = Hash(id), OrganizationId = org.OrgId, AccountId = account.Id, KeyId = key.Id, KeyVersion = key.Version,
            CreatedAtMs = nowMs, LastSeenAtMs = nowMs, ClientAddress = clientAddress.Length <= 64 ? clientAddress : clientAddress[..64],
        };
        db.LegacySessions.Add(row);
        db.AuditEvents.Add(audit);
        await db.SaveChangesAsync();
        Add(new SessionEntry(row.IdHash, org.OrgId, account.Id, account.Username, key.Id, key.Version, nowMs, nowMs,
            row.ClientAddress) { VerifiedVersion = org.StateVersion });
        return id;
    }

    /// <summary>
    /// Ends a session in the database, then in memory. In that order, a database that cannot be reached fails the
    /// logout as a whole (503) rather than ending the session on this node only, to come back at the next restart.
    /// </summary>
    public async Task EndAsync(SessionEntry e, AuditEvent? audit = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.LegacySessions.Where(s => s.IdHash == e.IdHash).ExecuteDeleteAsync();
        if (audit is not null)
        {
            db.AuditEvents.Add(audit);
            await db.SaveChangesAsync();
        }
        var version = await SessionsEndedAsync(db, e.OrganizationId);
        await tx.CommitAsync();
        _sessions.TryRemove(KeyOf(e.IdHash), out _);
        await PublishAsync(e.OrganizationId, version);
    }

    /// <summary>
    /// Ends every live session of an org ("end all" in the portal): their rows are deleted and the audit event
    /// written in one transaction, then they leave memory (the order of <see cref="EndAsync"/>, for the same
    /// reason). Returns how many ended.
    /// </summary>
    public async Task<int> EndAllAsync(long orgId, AuditEvent audit)
    {
        var mine = _sessions.Values.Where(s => s.OrganizationId == orgId).ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        var deleted = await db.LegacySessions.Where(s => s.OrganizationId == orgId).ExecuteDeleteAsync();
        // On a cluster the rows say how many there were; other nodes' sessions are among them.
        audit.Detail = $"count={(shared is null ? mine.Count : deleted)}";
        db.AuditEvents.Add(audit);
        await db.SaveChangesAsync();
        var version = await SessionsEndedAsync(db, orgId);
        await tx.CommitAsync();
        foreach (var e in mine) _sessions.TryRemove(KeyOf(e.IdHash), out _);
        await PublishAsync(orgId, version);
        return shared is null ? mine.Count : deleted;
    }

    /// <summary>After an org's deletion committed: this node forgets its sessions (other nodes forget the org itself).</summary>
    public void ForgetOrg(long orgId)
    {
        foreach (var (k, e) in _sessions)
            if (e.OrganizationId == orgId) _sessions.TryRemove(k, out _);
    }

    /// <summary>On a cluster node, marks the org's sessions as changed, in the caller's transaction; returns the new version.</summary>
    private async Task<long> SessionsEndedAsync(AppDbContext db, long orgId)
    {
        if (shared is null) return 0;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await db.Organizations.Where(o => o.Id == orgId).ExecuteUpdateAsync(u => u
            .SetProperty(o => o.StateVersion, o => o.StateVersion + 1)
            .SetProperty(o => o.StateChangedAtMs, now)
            .SetProperty(o => o.SessionsEndedVersion, o => o.StateVersion + 1));
        return await db.Organizations.Where(o => o.Id == orgId).Select(o => o.StateVersion).FirstAsync();
    }

    private Task PublishAsync(long orgId, long version) => shared?.PublishAsync(orgId, version) ?? Task.CompletedTask;

    private static SessionEntry EntryOf(LegacySession s, string username) =>
        new(s.IdHash, s.OrganizationId, s.AccountId, username, s.KeyId, s.KeyVersion, s.CreatedAtMs, s.LastSeenAtMs, s.ClientAddress);

    public void Forget(SessionEntry e) => _sessions.TryRemove(KeyOf(e.IdHash), out _);

    /// <summary>
    /// Ends an admin's legacy sessions but <paramref name="keep"/> (the one asking, when they change their own password),
    /// in the caller's transaction. The caller moves the org's SessionsEndedVersion with the same commit, so other nodes
    /// look again before they accept a session they hold, and calls <see cref="ForgetAccount"/> once it committed.
    /// </summary>
    public static Task<int> EndRowsOfAccountAsync(AppDbContext db, long accountId, byte[]? keep) =>
        keep is null
            ? db.LegacySessions.Where(s => s.AccountId == accountId).ExecuteDeleteAsync()
            : db.LegacySessions.Where(s => s.AccountId == accountId && s.IdHash != keep).ExecuteDeleteAsync();

    /// <summary>This node's part of <see cref="EndRowsOfAccountAsync"/>: a rare change, so a scan of the sessions is fine.</summary>
    public void ForgetAccount(long accountId, byte[]? keep)
    {
        foreach (var (k, e) in _sessions)
            if (e.AccountId == accountId && (keep is null || !e.IdHash.AsSpan().SequenceEqual(keep))) _sessions.TryRemove(k, out _);
    }

    /// <summary>The org's live sessions: this node's, or on a cluster node every node's (from the database).</summary>
    public async Task<List<SessionEntry>> LiveOfAsync(long orgId, long nowMs, CancellationToken ct = default)
    {
        var here = _sessions.Values.Where(s => s.OrganizationId == orgId).ToDictionary(s => KeyOf(s.IdHash));
        if (shared is not null)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.LegacySessions.AsNoTracking()
                .Where(s => s.OrganizationId == orgId && s.LastSeenAtMs > nowMs - IdleMs && s.CreatedAtMs > nowMs - MaxAgeMs)
                .Join(db.Accounts, s => s.AccountId, a => a.Id, (s, a) => new { s, a.Username }).ToListAsync(ct);
            foreach (var r in rows)
            {
                var entry = EntryOf(r.s, r.Username);
                // This node's last-seen is fresher than the database's when it served the session itself.
                if (!here.TryGetValue(KeyOf(r.s.IdHash), out var mine) || mine.LastSeenMs < entry.LastSeenMs) here[KeyOf(r.s.IdHash)] = entry;
            }
        }
        return here.Values.Where(s => !IsOver(s, nowMs)).OrderBy(s => s.CreatedAtMs).ToList();
    }

    private static UInt128 KeyOf(ReadOnlySpan<byte> hash) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]));

    public override async Task StartAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        await base.StartAsync(ct);
    }

    /// <summary>Brings back the sessions that were live when the node last stopped.</summary>
    public async Task LoadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = await db.LegacySessions.AsNoTracking().Where(s => s.LastSeenAtMs > now - IdleMs && s.CreatedAtMs > now - MaxAgeMs)
            .Join(db.Accounts, s => s.AccountId, a => a.Id, (s, a) => new { s, a.Username })
            .ToListAsync(ct);
        foreach (var r in rows)
            Add(EntryOf(r.s, r.Username));
    }

    /// <summary>
    /// Every few seconds: forget idle sessions and those past their lifetime, and write last-seen times that moved by more than a minute
    /// (a restart may then end a session up to a minute early, never late), so the hot path writes nothing.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) { log.LogWarning(e, "Session sweep failed; will retry"); }
        }
    }

    public async Task SweepAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var idle = new List<byte[]>();
        var touched = new List<SessionEntry>();
        foreach (var (k, e) in _sessions)
        {
            if (IsOver(e, now)) { _sessions.TryRemove(k, out _); idle.Add(e.IdHash); }
            else if (e.LastSeenMs - e.PersistedLastSeenMs >= 60_000) touched.Add(e);
        }
        if (idle.Count == 0 && touched.Count == 0) return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // A row goes only when the database agrees it is idle (another node may have used it since), or its lifetime is over.
        var (cutoff, bornBefore) = (now - IdleMs, now - MaxAgeMs);
        foreach (var chunk in idle.Chunk(500))
            await db.LegacySessions.Where(s => chunk.Contains(s.IdHash) && (s.LastSeenAtMs <= cutoff || s.CreatedAtMs <= bornBefore)).ExecuteDeleteAsync(ct);
        foreach (var e in touched)
        {
            var seen = e.LastSeenMs;
            await db.LegacySessions.Where(s => s.IdHash == e.IdHash).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAtMs, seen), ct);
            e.PersistedLastSeenMs = seen;
        }
    }
}
