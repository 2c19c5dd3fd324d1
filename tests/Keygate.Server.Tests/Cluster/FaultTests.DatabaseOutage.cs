using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 6, item 4: PostgreSQL unreachable. A node whose database connections run through a <see cref="TcpProxy"/>
/// loses the database in the middle of its work: every change then answers 503 SERVICE_UNAVAILABLE in the shape of
/// its API, within seconds; /readyz fails while /healthz does not; and once the network is back the node recovers
/// by itself with nothing half-written.
/// </summary>
public sealed partial class FaultTests
{
    /// <summary>Only a change writes the org row (its StateVersion); reads of the org never send this.</summary>
    private const string OrgUpdate = "UPDATE \"Organizations\"";

    [Fact]
    public async Task WithTheDatabaseUnreachableEveryChangeAnswers503AndAfterItReturnsNothingWasHalfWritten()
    {
        await using var node = await ProxiedApp.CreateAsync();
        var (app, org) = (node.App, node.Org);
        using var session = await app.SessionAsync(org);
        using var provider = app.Provider();
        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        var antiforgery = PortalSession.AntiforgeryToken(await portal.GetStringAsync(PortalSession.KeyPage));
        var value = await app.KeyValueAsync(org);
        var before = await node.LedgerAsync();

        node.Proxy.Cut();
        var keyPath = $"/api/v1/apiKeys/{org.KeyId}";
        await Unavailable.AssertLegacy(session.PostAsync(keyPath + "/regenerate", null));
        await Unavailable.AssertLegacy(session.PutAsync(keyPath, Json(new { keyValue = NewKeyValue() })));
        await Unavailable.AssertLegacy(session.DeleteAsync(keyPath));
        await Unavailable.AssertProblem(provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable", Json(new { reason = "OTHER" })));
        await Unavailable.AssertProblem(provider.PutAsync($"/provider/v1/organizations/{org.Id}/subscription", Json(new { enabled = false })));
        await Unavailable.AssertPortal(portal.PostAsync($"{PortalSession.KeyPage}?handler=Regenerate", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["keyId"] = org.KeyId.ToString(), ["__RequestVerificationToken"] = antiforgery })));
        await Unavailable.AssertProblem(app.Client().GetAsync("/readyz"));
        Assert.Equal(HttpStatusCode.OK, (await app.Client().GetAsync("/healthz").WaitAsync(Unavailable.HangBound)).StatusCode);

        await node.RestoreAsync();
        await node.AssertUnchangedSinceAsync(before);
        Assert.True(await node.LogsInAsync(value), "the key of before the outage no longer logs in");

        // The node works again without a restart, and the change is whole.
        var regenerated = (await (await session.PostAsync(keyPath + "/regenerate", null)).AssertOk()).GetProperty("keyValue").GetString()!;
        var changed = await node.LedgerAsync();
        changed.AssertConsistent();
        Assert.Equal(before.StateVersion + 1, changed.StateVersion);
        Assert.Equal(regenerated, changed.Cloud!.Value);
        Assert.True(await node.LogsInAsync(regenerated));
    }

    [Fact]
    public async Task AConnectionLostWhileAChangeIsSavedAnswers503AndLeavesNothingWritten()
    {
        await using var node = await ProxiedApp.CreateAsync();
        using var session = await node.App.SessionAsync(node.Org);
        var value = await node.App.KeyValueAsync(node.Org);
        var before = await node.LedgerAsync();

        // The statement that bumps the org's StateVersion is lost on its way, inside the change's transaction.
        await node.RegenerateThroughFaultAsync(session, proxy => proxy.CutWhenSending(OrgUpdate));

        await node.AssertUnchangedSinceAsync(before);
        Assert.True(await node.LogsInAsync(value), "the key of before the lost change no longer logs in");
    }

    [Fact]
    public async Task ACommitWhoseAnswerIsLostLeavesTheNodeServingWhatTheDatabaseHolds()
    {
        await using var node = await ProxiedApp.CreateAsync();
        using var session = await node.App.SessionAsync(node.Org);
        var value = await node.App.KeyValueAsync(node.Org);

        // The server commits the regenerate, and the network goes before the node hears of it.
        await node.RegenerateThroughFaultAsync(session, proxy => proxy.CutWhenCommitting(OrgUpdate));

        var ledger = await node.LedgerAsync();
        ledger.AssertConsistent();
        Assert.Equal(2, ledger.Cloud!.Version);
        var listed = Assert.Single((await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray());
        Assert.Equal(ledger.Cloud.Value, listed.GetProperty("keyValue").GetString());
        Assert.True(await node.LogsInAsync(ledger.Cloud.Value), "the committed value does not log in");
        Assert.False(await node.LogsInAsync(value), "the value the database no longer holds still logs in");
    }

    [Fact]
    public async Task ACutInTheMiddleOfConcurrentRegeneratesLeavesEachOneCommittedWholeOrNotAtAll()
    {
        await using var node = await ProxiedApp.CreateAsync();
        using var session = await node.App.SessionAsync(node.Org);
        var returned = new ConcurrentQueue<string>();
        var refused = 0;
        using var stop = new CancellationTokenSource();

        async Task RegenerateUntilStopped()
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await session.PostAsync($"/api/v1/apiKeys/{node.Org.KeyId}/regenerate", null).WaitAsync(Unavailable.HangBound);
                if (r.StatusCode == HttpStatusCode.OK) returned.Enqueue((await r.JsonAsync()).GetProperty("keyValue").GetString()!);
                else
                {
                    await Unavailable.AssertLegacy(Task.FromResult(r));
                    Interlocked.Increment(ref refused);
                }
            }
        }

        const int Workers = 6;
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(RegenerateUntilStopped)).ToArray();
        // The cut comes once regenerates flow (a bounded wait of a minute, as ChangeStream.FlowingAsync), then at a random moment
        // among them: never before the stream got going, however slow the machine.
        var flowing = Workers + Random.Shared.Next(0, 3 * Workers);
        for (var i = 0; i < 3000 && returned.Count < flowing && !workers.Any(w => w.IsCompleted); i++) await Task.Delay(20);
        if (workers.FirstOrDefault(w => w.IsFaulted) is { } failed) await failed;
        Assert.True(returned.Count >= flowing, $"the regenerates did not get going: {returned.Count} returned");
        node.Proxy.Cut();
        // Let every worker meet the outage a few times before the network comes back.
        for (var i = 0; i < 300 && Volatile.Read(ref refused) < 3 * Workers; i++) await Task.Delay(100);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await node.RestoreAsync();

        var ledger = await node.LedgerAsync();
        ledger.AssertConsistent();
        var committed = ledger.Successes.Count(e => e.Action == "key.regenerate");
        Assert.True(returned.Count > 0 && refused > 0, $"{returned.Count} regenerates returned, {refused} refused: the cut missed the stream");
        // Every regenerate that returned is committed; at most one per worker committed without its answer.
        Assert.InRange(committed, returned.Count, returned.Count + Workers);
        Assert.True(await node.LogsInAsync(ledger.Cloud!.Value), "the committed value does not log in");
        var listed = Assert.Single((await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray());
        Assert.Equal(ledger.Cloud.Value, listed.GetProperty("keyValue").GetString());
    }

    /// <summary>
    /// Contract A2 v3: a logout that cannot be made durable answers 503 SERVICE_UNAVAILABLE and leaves the session exactly
    /// as it was (its row untouched, working on this node and after a restart), so the client retries; the same for
    /// the SDK's DELETE /auth and the portal's "end all".
    /// </summary>
    [Fact]
    public async Task ALogoutOrEndAllDuringTheOutageAnswers503AndLeavesTheSessionsWorkingAfterARestartToo()
    {
        await using var node = await ProxiedApp.CreateAsync();
        var (app, org) = (node.App, node.Org);
        var value = await app.KeyValueAsync(org);
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var login = await app.LoginAsync(org.Username, org.Password, value);
            await login.AssertOk();
            ids.Add(SessionIdOf(login)!);
        }
        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        var antiforgery = PortalSession.AntiforgeryToken(await portal.GetStringAsync("/admin/sessions"));
        var rows = await SessionRowsAsync(app, org);

        node.Proxy.Cut();
        foreach (var (id, path) in ids.Zip(["/api/v1/auth", "/auth"]))
        {
            var r = await app.SessionClient(id).DeleteAsync(path).WaitAsync(Unavailable.HangBound);
            Assert.False(r.Headers.Contains("Set-Cookie"), "a logout that did not happen must not clear the cookie");
            await Unavailable.AssertLegacy(Task.FromResult(r));
        }
        await Unavailable.AssertPortal(portal.PostAsync("/admin/sessions?handler=EndAll",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = antiforgery })));
        await node.RestoreAsync();

        Assert.Equal(rows, await SessionRowsAsync(app, org));
        // Neither ended, on this node nor on one started afresh from the database: not ended in memory only.
        using var restarted = KeygateApp.Reopen(app);
        foreach (var host in new[] { app, restarted })
            foreach (var id in ids)
                await (await host.SessionClient(id).GetAsync("/api/v1/auth")).AssertOk();
    }

    /// <summary>The org's session rows as the database holds them, every column, read directly.</summary>
    private static async Task<string[]> SessionRowsAsync(KeygateApp app, TestOrg org)
    {
        await using var db = app.OpenDatabase();
        var rows = await db.LegacySessions.AsNoTracking().Where(s => s.OrganizationId == org.Id).ToListAsync();
        return [.. rows.Select(s => $"{Convert.ToHexString(s.IdHash)} {s.AccountId} {s.KeyId}/{s.KeyVersion} {s.CreatedAtMs} {s.LastSeenAtMs} {s.ClientAddress}").Order()];
    }
}
