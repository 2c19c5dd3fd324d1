using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Keygate.Webhooks;

/// <summary>
/// Turns outbox events into deliveries, one per subscribed URL, and sends them signed, retrying with backoff.
/// Events and deliveries live in the database, so a restart loses nothing; at worst a delivery is sent twice
/// (at least once: receivers dedupe on the event id).
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, IHttpClientFactory clients, IOptions<KeygateOptions> options,
    KeygateMetrics metrics, TimeProvider clock, ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const int MaxAttempts = 12;
    private const int Batch = 50;
    private const long MaxBackoffMs = 10 * 60 * 1000;
    // A claimed delivery is due again after this, so one whose node died mid-send is retried, and a send
    // (10 s timeout) always ends well before another node may take it.
    private const long LeaseMs = 60_000;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    private const long PruneEveryMs = 60 * 60 * 1000;
    private long _nextPruneAtMs;

    private sealed record Due(long Id, long NextAttemptAtMs, WebhookTarget Target, long? EndpointId, string Url, int Attempts,
        long OrganizationId, string EventId, string Type, string Body);

    private sealed record Outcome(int? Status, string? Error);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var more = false;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                more = await FanOutAsync(db, stop);
                more |= await SendDueAsync(db, scope.ServiceProvider.GetRequiredService<KeyVault>(), stop);
                if (clock.Now() >= _nextPruneAtMs) await PruneAsync(db, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) { log.LogWarning(e, "Webhook dispatch failed; it is tried again shortly"); }
            if (more) continue;
            try { await Task.Delay(Tick, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One delivery per URL of the org's endpoint, its service provider's and the operator's, in one transaction.</summary>
    private async Task<bool> FanOutAsync(AppDbContext db, CancellationToken ct)
    {
        var events = await db.WebhookEvents.AsNoTracking().Where(e => !e.FannedOut).OrderBy(e => e.Id).Take(Batch)
            .Select(e => new { e.Id, e.OrganizationId, e.ServiceProviderId }).ToListAsync(ct);
        if (events.Count == 0) return false;
        var orgIds = events.Select(e => (long?)e.OrganizationId).Distinct().ToList();
        var spIds = events.Select(e => e.ServiceProviderId).Where(id => id is not null).Distinct().ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(x => orgIds.Contains(x.OrganizationId) || spIds.Contains(x.ServiceProviderId)).ToListAsync(ct);
        var operatorUrls = options.Value.Webhooks.OperatorUrls;
        var now = clock.Now();

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var e in events)
        {
            // Claimed inside the transaction, so two nodes never both fan the same event out.
            var claimed = await db.WebhookEvents.Where(x => x.Id == e.Id && !x.FannedOut)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.FannedOut, true), ct);
            if (claimed == 0) continue;
            void Add(WebhookTarget target, long? endpointId, IEnumerable<string> urls)
            {
                foreach (var url in urls)
                    db.WebhookDeliveries.Add(new WebhookDelivery
                    {
                        WebhookEventId = e.Id, Target = target, EndpointId = endpointId, Url = url, NextAttemptAtMs = now,
                    });
            }
            if (endpoints.FirstOrDefault(x => x.OrganizationId == e.OrganizationId) is { } org)
                Add(WebhookTarget.Organization, org.Id, org.Urls);
            if (e.ServiceProviderId is { } spId && endpoints.FirstOrDefault(x => x.ServiceProviderId == spId) is { } sp)
                Add(WebhookTarget.ServiceProvider, sp.Id, sp.Urls);
            Add(WebhookTarget.Operator, null, operatorUrls);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return events.Count == Batch;
    }

    private async Task<bool> SendDueAsync(AppDbContext db, KeyVault vault, CancellationToken ct)
    {
        var now = clock.Now();
        var due = await (
            from d in db.WebhookDeliveries
            join e in db.WebhookEvents on d.WebhookEventId equals e.Id
            where d.DeliveredAtMs == null && !d.GaveUp && d.NextAttemptAtMs <= now
            orderby d.NextAttemptAtMs, d.Id
            select new Due(d.Id, d.NextAttemptAtMs, d.Target, d.EndpointId, d.Url, d.Attempts, e.OrganizationId, e.EventId, e.Type, e.Body))
            .Take(Batch).ToListAsync(ct);
        if (due.Count == 0) return false;

        var mine = new List<Due>(due.Count);
        foreach (var d in due)
        {
            // The claim: only the node that moves the due time on sends.
            var claimed = await db.WebhookDeliveries.Where(x => x.Id == d.Id && x.NextAttemptAtMs == d.NextAttemptAtMs && x.DeliveredAtMs == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.NextAttemptAtMs, now + LeaseMs), ct);
            if (claimed == 1) mine.Add(d);
        }
        var secrets = await SecretsAsync(db, vault, mine, ct);
        var outcomes = new ConcurrentDictionary<long, Outcome>();
        await Parallel.ForEachAsync(mine, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (d, token) => outcomes[d.Id] = await SendAsync(d, secrets, token));

        var ids = mine.Select(d => d.Id).ToList();
        var rows = await db.WebhookDeliveries.Where(x => ids.Contains(x.Id)).ToDictionaryAsync(x => x.Id, ct);
        var doneAt = clock.Now();
        foreach (var d in mine)
        {
            var row = rows[d.Id];
            var outcome = outcomes[d.Id];
            row.Attempts++;
            row.LastStatus = outcome.Status;
            row.LastError = outcome.Error;
            if (outcome.Error is null)
            {
                row.DeliveredAtMs = doneAt;
                continue;
            }
            row.NextAttemptAtMs = doneAt + Math.Min(1000L << Math.Min(row.Attempts - 1, 20), MaxBackoffMs);
            log.LogDebug("Webhook delivery {Id} attempt {Attempts} failed: {Error}", d.Id, row.Attempts, outcome.Error);
            if (row.Attempts < MaxAttempts) continue;
            row.GaveUp = true;
            log.LogWarning("Webhook delivery {Id} ({Type} to the {Target} endpoint) gave up after {Attempts} attempts: {Error}",
                d.Id, d.Type, d.Target, row.Attempts, outcome.Error);
            db.AuditEvents.Add(AuditLog.Event(Actor.System, d.OrganizationId, "webhook.gave_up", null, "DELIVERY_FAILED", doneAt,
                $"{d.Type} event {d.EventId} to the {d.Target} endpoint: {row.Attempts} attempts, last {outcome.Error}"));
        }
        await db.SaveChangesAsync(ct);
        return due.Count == Batch;
    }

    /// <summary>
    /// Without this the outbox only grows. An event goes, with its deliveries, once it is older than
    /// Keygate:Webhooks:RetentionDays and none of its deliveries is still being tried. Hourly; on several nodes
    /// each prunes, and the second finds nothing left.
    /// </summary>
    private async Task PruneAsync(AppDbContext db, CancellationToken ct)
    {
        var now = clock.Now();
        // Set first: a prune that fails is tried again in an hour, not on every 500 ms tick.
        _nextPruneAtMs = now + PruneEveryMs;
        var before = now - options.Value.Webhooks.RetentionDays * 86_400_000L;
        var old = db.WebhookEvents.Where(e => e.FannedOut && e.OccurredAtMs < before
            && !db.WebhookDeliveries.Any(d => d.WebhookEventId == e.Id && d.DeliveredAtMs == null && !d.GaveUp));
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.WebhookDeliveries.Where(d => old.Any(e => e.Id == d.WebhookEventId)).ExecuteDeleteAsync(ct);
        var pruned = await old.ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        if (pruned > 0) log.LogInformation("Pruned {Count} webhook events older than {Days} days", pruned, options.Value.Webhooks.RetentionDays);
    }

    private async Task<Dictionary<long, string>> SecretsAsync(AppDbContext db, KeyVault vault, List<Due> due, CancellationToken ct)
    {
        var ids = due.Where(d => d.EndpointId is not null).Select(d => d.EndpointId!.Value).Distinct().ToList();
        var secrets = new Dictionary<long, string>();
        if (ids.Count == 0) return secrets;
        foreach (var x in await db.WebhookEndpoints.AsNoTracking().Where(x => ids.Contains(x.Id)).Select(x => new { x.Id, x.Secret }).ToListAsync(ct))
        {
            try { secrets[x.Id] = vault.DecryptWebhookSecret(x.Secret, x.Id); }
            catch (CryptographicException e) { log.LogError(e, "The signing secret of webhook endpoint {Id} cannot be decrypted", x.Id); }
        }
        return secrets;
    }

    /// <summary>
    /// One attempt, in its own trace (the delivery runs apart from the request that caused it): a recorded span when
    /// traces are exported, else a bare activity, so the receiver always gets a W3C traceparent to log.
    /// </summary>
    private async Task<Outcome> SendAsync(Due d, Dictionary<long, string> secrets, CancellationToken ct)
    {
        using var span = KeygateTrace.Source.StartActivity("keygate.webhook.deliver", ActivityKind.Producer)
            ?? new Activity("keygate.webhook.deliver").Start();
        span.SetTag("keygate.event_type", d.Type);
        span.SetTag("keygate.attempt", d.Attempts + 1);
        var outcome = await AttemptAsync(d, secrets, ct);
        span.SetTag("http.response.status_code", outcome.Status);
        if (outcome.Error is not null) span.SetStatus(ActivityStatusCode.Error);
        metrics.WebhookDeliveries.Add(1, KeygateMetrics.Tag("outcome",
            outcome.Error is null ? "delivered" : d.Attempts + 1 >= MaxAttempts ? "gave_up" : "failed"));
        return outcome;
    }

    private async Task<Outcome> AttemptAsync(Due d, Dictionary<long, string> secrets, CancellationToken ct)
    {
        var secret = d.EndpointId is { } id ? secrets.GetValueOrDefault(id) : options.Value.Webhooks.OperatorSecret;
        if (string.IsNullOrEmpty(secret)) return new(null, "no signing secret");
        // A URL saved before https was required (or while private networks were allowed) is not sent in clear.
        if (WebhookUrls.UrlProblem(d.Url, options.Value.Webhooks.AllowPrivateNetworks) is not null) return new(null, "refused: not an https URL");
        try
        {
            using var request = WebhookHttp.Request(d.Url, d.Body, secret, clock.GetUtcNow().ToUnixTimeSeconds());
            using var response = await clients.CreateClient(WebhookHttp.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            return new(status, response.IsSuccessStatusCode ? null : $"HTTP {status}");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) { return new(null, Describe(e)); }
    }

    /// <summary>A few words on a failed send; exception messages are left out because they may name the URL.</summary>
    private static string Describe(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case AddressRefusedException: return "refused: not a public address";
                case TimeoutException: return "timed out";
                case SocketException s: return $"connection failed ({s.SocketErrorCode})";
            }
        }
        return e switch
        {
            TaskCanceledException => "timed out",
            HttpRequestException h => $"request failed ({h.HttpRequestError})",
            _ => "request failed",
        };
    }
}
