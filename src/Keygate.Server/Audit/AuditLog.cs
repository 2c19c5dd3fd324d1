using Keygate.Data;
using Keygate.Kernel;
using System.Threading.Channels;

namespace Keygate.Audit;

public static class AuditLog
{
    public static AuditEvent Event(Actor actor, long? orgId, string action, long? keyId, string outcome, long nowMs, string detail = "") => new()
    {
        OrganizationId = orgId,
        ServiceProviderId = actor.ServiceProviderId,
        TimeMs = nowMs,
        Actor = actor.AuditName,
        Action = action,
        KeyId = keyId,
        Outcome = outcome,
        ClientAddress = actor.ClientAddress,
        Detail = detail,
    };

    public const string Success = "SUCCESS";

    /// <summary>
    /// A change refused: what the refused attempt put in the context is dropped, and the refusal audited, except a 404
    /// (the thing does not exist for this caller, and an org it may not see gets no events from it).
    /// </summary>
    public static async Task RefusedAsync(AppDbContext db, Actor actor, long orgId, string action, long? keyId, KeygateError refusal, long nowMs)
    {
        db.ChangeTracker.Clear();
        if (refusal.Status == 404) return;
        db.AuditEvents.Add(Event(actor, orgId, action, keyId, refusal.Code, nowMs));
        await db.SaveChangesAsync();
    }
}

/// <summary>
/// Writes audit events that do not belong to a state change (failed logins) off the request path, in
/// batches, so a flood of bogus logins costs the database one insert per batch rather than one per request.
/// When the queue is full new events are dropped and counted rather than slowing logins down.
/// </summary>
public sealed class AuditWriter(IServiceScopeFactory scopes, ILogger<AuditWriter> log) : BackgroundService
{
    private readonly Channel<AuditEvent> _queue = Channel.CreateBounded<AuditEvent>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Enqueue(AuditEvent e)
    {
        if (!_queue.Writer.TryWrite(e)) Interlocked.Increment(ref _dropped);
    }

    /// <summary>Waits until everything queued so far is written (tests and shutdown).</summary>
    public async Task FlushAsync()
    {
        while (_queue.Reader.Count > 0 || _writing) await Task.Delay(10);
    }

    private volatile bool _writing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEvent>(256);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
                await WriteAvailableAsync(batch);
        }
        catch (OperationCanceledException) { }
        await WriteAvailableAsync(batch); // drain on shutdown
    }

    private async Task WriteAvailableAsync(List<AuditEvent> batch)
    {
        _writing = true;
        try
        {
            while (_queue.Reader.TryRead(out var e))
            {
                batch.Add(e);
                if (batch.Count < 256 && _queue.Reader.Count > 0) continue;
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                db.AuditEvents.AddRange(batch);
                await db.SaveChangesAsync();
                batch.Clear();
            }
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Writing {Count} audit events failed", batch.Count);
            batch.Clear();
        }
        finally { _writing = false; }
    }
}
