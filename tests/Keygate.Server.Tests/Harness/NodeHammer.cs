using System.Net;
using System.Text.Json;

namespace Keygate.Tests;

/// <summary>A live legacy session: the generation of the key value it logged in with, and the node that opened it.</summary>
public sealed record PooledSession(string Id, int Generation, string Origin);

/// <summary>
/// Recent sessions from every node, shared by the clients; an old one stays until a new one takes its slot.
/// Half the picks are among the newest few, which are mostly still valid; the rest mostly meet sessions a
/// change has ended.
/// </summary>
public sealed class SessionPool
{
    private const int Newest = 3;
    private readonly PooledSession?[] _slots = new PooledSession?[48];
    private int _added;

    public void Add(PooledSession s)
    {
        lock (_slots) _slots[_added++ % _slots.Length] = s;
    }

    public PooledSession? Pick(Random rng)
    {
        lock (_slots)
        {
            var filled = Math.Min(_added, _slots.Length);
            if (filled == 0) return null;
            var back = rng.Next(2) == 0 ? rng.Next(Math.Min(Newest, filled)) : rng.Next(filled);
            return _slots[(_added - 1 - back) % _slots.Length];
        }
    }
}

/// <summary>
/// Clients of one node, as SDKs use it: logins with the org's current key value and, on purpose, with the
/// previous one, and calls on live sessions opened anywhere. Every request is stamped by the ledger before it
/// is sent and after its answer, and recorded in the tally to be judged at the end.
/// </summary>
public sealed class NodeHammer(HttpClient node, string origin, TestOrg org, TruthLedger ledger, SessionPool pool, AcceptanceTally tally)
{
    /// <summary>Sends requests until <paramref name="stop"/>; the request in flight then is finished, not cancelled.</summary>
    public async Task HammerAsync(int seed, CancellationToken stop)
    {
        var rng = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            var before = ledger.Stamp;
            var truth = ledger.At(before);
            var roll = rng.NextDouble();
            if (roll < 0.15 && truth.Value is null) await LoginAsync("login with the deleted key's value", truth.Previous!, before);
            else if (roll < 0.15) await LoginAsync("login with the current value", truth.Value!, before);
            else if (roll < 0.25) await LoginAsync("login with the previous value", truth.Previous ?? truth.Value!, before);
            else if (pool.Pick(rng) is { } session) await CallAsync(session, rng.Next(2) == 0 ? "/api/v1/apiKeys" : "/api/v1/auth", before);
        }
    }

    /// <summary>
    /// Opens a session whenever a change has ended the last one this client opened, so the pool always holds
    /// sessions that are still valid, not only ones that changes ended.
    /// </summary>
    public async Task KeepASessionAsync(CancellationToken stop)
    {
        var opened = -1;
        while (!stop.IsCancellationRequested)
        {
            if (ledger.Current.Generation == opened || await OpenSessionAsync() is not { } generation) await Task.Delay(10);
            else opened = generation;
        }
    }

    /// <summary>Opens a session with the current key when the key should allow it (for the pool, not judged); returns its generation.</summary>
    public async Task<int?> OpenSessionAsync()
    {
        var truth = ledger.Current;
        if (truth.Value is null || truth.LoginRefusal(truth.Value) is not null) return null;
        try
        {
            var r = await node.LoginAsync(org.Username, org.Password, truth.Value, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (r.StatusCode != HttpStatusCode.OK) return null;
            pool.Add(new PooledSession(Scenario.SessionIdOf(r)!, truth.Generation, origin));
            return truth.Generation;
        }
        catch (Exception e) when (NodeProcess.IsNoAnswer(e)) { return null; }
    }

    private async Task LoginAsync(string kind, string value, long before)
    {
        try
        {
            var r = await node.LoginAsync(org.Username, org.Password, value, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var after = ledger.Stamp;
            tally.Record(kind, before, after, t => t.LoginRefusal(value), r, await CodeAsync(r));
            // The server checked this value, so the session is bound to the key version that held it.
            if (r.StatusCode == HttpStatusCode.OK) pool.Add(new PooledSession(Scenario.SessionIdOf(r)!, ledger.GenerationOf(value), origin));
        }
        catch (Exception e) when (NodeProcess.IsNoAnswer(e)) { tally.NoAnswer(kind, e); }
    }

    private async Task CallAsync(PooledSession session, string path, long before)
    {
        var kind = $"GET {path} on a session opened on {session.Origin}";
        try
        {
            var r = await node.SendAsync(KeyChurn.WithSession(HttpMethod.Get, path, session.Id));
            var after = ledger.Stamp;
            tally.Record(kind, before, after, t => t.SessionRefusal(session.Generation), r, await CodeAsync(r));
        }
        catch (Exception e) when (NodeProcess.IsNoAnswer(e)) { tally.NoAnswer(kind, e); }
    }

    /// <summary>The legacy error code of a refusal, for the report.</summary>
    private static async Task<string?> CodeAsync(HttpResponseMessage r)
    {
        if (r.IsSuccessStatusCode) return null;
        try
        {
            using var json = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            return json.RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
        }
        catch (JsonException) { return null; }
    }
}
