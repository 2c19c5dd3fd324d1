using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate;

/// <summary>One live legacy session as the hot path sees it.</summary>
public sealed class SessionEntry(byte[] idHash, long orgId, long accountId, string username, AdminRole role,
    long keyId, long keyVersion, long createdAtMs, long lastSeenMs, string clientAddress)
{
    public byte[] IdHash { get; } = idHash;
    public long OrganizationId { get; } = orgId;
    public long AccountId { get; } = accountId;
    public string Username { get; } = username;
    public AdminRole Role { get; } = role;
    public long KeyId { get; } = keyId;
    public long KeyVersion { get; } = keyVersion;
    public long CreatedAtMs { get; } = createdAtMs;
    public string ClientAddress { get; } = clientAddress;
    private long _lastSeenMs = lastSeenMs;
    /// <summary>The last-seen time the database has; it is refreshed when it falls a minute behind.</summary>
    internal long PersistedLastSeenMs = lastSeenMs;
    public long LastSeenMs => Interlocked.Read(ref _lastSeenMs);
    public void Touch(long nowMs) => Interlocked.Exchange(ref _lastSeenMs, nowMs);
}

/// <summary>
/// Live legacy sessions, held in memory and mirrored in the database (so a restart keeps them). The
/// session id is only ever stored as its SHA-256; in memory the first 128 bits of that hash are the key,
/// which keeps lookups allocation-free.
/// </summary>
public sealed class SessionStore(IServiceScopeFactory scopes, TimeProvider clock, IOptions<KeygateOptions> options, ILogger<SessionStore> log)
    : BackgroundService
{
    private readonly ConcurrentDictionary<UInt128, SessionEntry> _sessions = new();
    private long IdleMs => options.Value.SessionIdleMinutes * 60_000L;

    public int Count => _sessions.Count;

    public static string NewId() => RandomNumberGenerator.GetHexString(32); // 128 bits from the CSPRNG

    public static byte[] Hash(string id) => SHA256.HashData(Encoding.ASCII.GetBytes(id));

    public void Add(SessionEntry entry) => _sessions[KeyOf(entry.IdHash)] = entry;

    public SessionEntry? Find(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > 128) return null;
        Span<byte> ascii = stackalloc byte[id.Length];
        for (var i = 0; i < id.Length; i++) ascii[i] = (byte)(id[i] < 128 ? id[i] : '?');
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(ascii, hash);
        return _sessions.TryGetValue(KeyOf(hash), out var e) ? e : null;
    }

    public bool IsIdle(SessionEntry e, long nowMs) => nowMs - e.LastSeenMs >= IdleMs;

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
        await tx.CommitAsync();
        _sessions.TryRemove(KeyOf(e.IdHash), out _);
    }

    /// <summary>
    /// Ends every live session of an org ("end all" in the portal): their rows are deleted and the audit event
    /// written in one transaction, then they leave memory (the order of <see cref="EndAsync"/>, for the same
    /// reason). Returns how many ended.
    /// </summary>
    public async Task<int> EndAllAsync(long orgId, AuditEvent audit)
    {
        var ended = OfOrganization(orgId).ToList();
        audit.Detail = $"count={ended.Count}";
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.LegacySessions.Where(s => s.OrganizationId == orgId).ExecuteDeleteAsync();
        db.AuditEvents.Add(audit);
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        foreach (var e in ended) _sessions.TryRemove(KeyOf(e.IdHash), out _);
        return ended.Count;
    }

    public void Forget(SessionEntry e) => _sessions.TryRemove(KeyOf(e.IdHash), out _);

    public IEnumerable<SessionEntry> OfOrganization(long orgId) => _sessions.Values.Where(s => s.OrganizationId == orgId);

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
        var since = clock.GetUtcNow().ToUnixTimeMilliseconds() - IdleMs;
        var rows = await db.LegacySessions.AsNoTracking().Where(s => s.LastSeenAtMs > since)
            .Join(db.Accounts, s => s.AccountId, a => a.Id, (s, a) => new { s, a.Username, a.Role })
            .ToListAsync(ct);
        foreach (var r in rows)
            Add(new SessionEntry(r.s.IdHash, r.s.OrganizationId, r.s.AccountId, r.Username, r.Role, r.s.KeyId,
                r.s.KeyVersion, r.s.CreatedAtMs, r.s.LastSeenAtMs, r.s.ClientAddress));
    }

    /// <summary>
    /// Every few seconds: forget idle sessions, and write last-seen times that moved by more than a minute
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
            if (IsIdle(e, now)) { _sessions.TryRemove(k, out _); idle.Add(e.IdHash); }
            else if (e.LastSeenMs - e.PersistedLastSeenMs >= 60_000) touched.Add(e);
        }
        if (idle.Count == 0 && touched.Count == 0) return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var chunk in idle.Chunk(500))
            await db.LegacySessions.Where(s => chunk.Contains(s.IdHash)).ExecuteDeleteAsync(ct);
        foreach (var e in touched)
        {
            var seen = e.LastSeenMs;
            await db.LegacySessions.Where(s => s.IdHash == e.IdHash).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAtMs, seen), ct);
            e.PersistedLastSeenMs = seen;
        }
    }
}
