using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace Keygate.Tests;

/// <summary>
/// The org's key changed over and over on one node, the way its admin and its provider would: regenerate and
/// edit (legacy API), delete (legacy API) then add (portal), disable then enable and expire then renew
/// (provider API). Each change is sent only after the previous one returned, and its truth is published in
/// the ledger the moment it returns.
/// </summary>
public sealed class KeyChurn(HttpClient legacy, HttpClient provider, HttpClient portal, TestOrg org, TruthLedger ledger)
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private readonly Dictionary<string, int> _done = [];
    private string? _session; // the churn's own legacy session; a change of the key ends it

    public string Summary => string.Join(", ", _done.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));

    /// <summary>Runs whole rounds of every kind of change, in a new random order each round, until enough changes returned.</summary>
    public async Task RunAsync(int minChanges, TimeSpan budget, CancellationToken ct)
    {
        Func<Task>[] kinds = [RegenerateAsync, EditAsync, DeleteThenAddAsync, DisableThenEnableAsync, ExpireThenRenewAsync];
        var clock = Stopwatch.StartNew();
        while (ledger.Changes < minChanges)
        {
            if (clock.Elapsed > budget)
                throw new TimeoutException($"only {ledger.Changes} of {minChanges} changes in {budget.TotalSeconds:F0} s ({Summary})");
            foreach (var change in kinds.OrderBy(_ => Random.Shared.Next()))
            {
                ct.ThrowIfCancellationRequested();
                await change();
            }
        }
    }

    private async Task RegenerateAsync()
    {
        var session = await SessionAsync();
        var key = await ChangeAsync("regenerate", HttpStatusCode.OK, () => legacy.SendAsync(
            WithSession(HttpMethod.Post, $"/api/v1/apiKeys/{ledger.Current.KeyId}/regenerate", session)));
        var value = key.GetProperty("keyValue").GetString()!;
        ledger.Publish(t => t with { Change = "regenerate", Value = value, Previous = t.Value, Generation = t.Generation + 1 });
        _session = null;
    }

    private async Task EditAsync()
    {
        var session = await SessionAsync();
        var value = RandomNumberGenerator.GetString(Alphanumerics, 12);
        var request = WithSession(HttpMethod.Put, $"/api/v1/apiKeys/{ledger.Current.KeyId}", session);
        request.Content = Scenario.Json(new { keyValue = value });
        await ChangeAsync("edit", HttpStatusCode.OK, () => legacy.SendAsync(request));
        ledger.Publish(t => t with { Change = "edit", Value = value, Previous = t.Value, Generation = t.Generation + 1 });
        _session = null;
    }

    private async Task DeleteThenAddAsync()
    {
        var session = await SessionAsync();
        await ChangeAsync("delete", HttpStatusCode.NoContent, () => legacy.SendAsync(
            WithSession(HttpMethod.Delete, $"/api/v1/apiKeys/{ledger.Current.KeyId}", session)));
        ledger.Publish(t => t with { Change = "delete", KeyId = 0, Value = null, Previous = t.Value, Generation = t.Generation + 1 });
        _session = null;

        // A legacy session needs a key, so the admin adds the new one in the portal (contract A4).
        var token = PortalSession.AntiforgeryToken(await portal.GetStringAsync(PortalSession.KeyPage));
        await ChangeAsync("add", HttpStatusCode.Redirect, () => portal.PostAsync(PortalSession.KeyPage + "?handler=Add",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["keyType"] = "CLOUD_SERVICE", ["__RequestVerificationToken"] = token })));
        // Until the value is read here the ledger still says "in flight", so requests meanwhile are judged
        // against both the deleted and the added key: slower to publish, never wrong.
        var value = Scenario.KeyValueOnPage(await portal.GetStringAsync(PortalSession.KeyPage))
            ?? throw new InvalidOperationException("The portal on node A shows no key after the add.");
        var view = await (await provider.GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
        var keyId = view.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("keyType").GetString() == "CLOUD_SERVICE").GetProperty("id").GetInt64();
        ledger.Publish(t => t with { Change = "add", KeyId = keyId, Value = value, Generation = t.Generation + 1 });
    }

    private async Task DisableThenEnableAsync()
    {
        var keyPath = $"/provider/v1/organizations/{org.Id}/apiKeys/{ledger.Current.KeyId}";
        await ChangeAsync("disable", HttpStatusCode.OK, () => provider.PostAsync(keyPath + "/disable", Scenario.Json(new { reason = "OTHER", note = "multi-node test" })));
        ledger.Publish(t => t with { Change = "disable", Disabled = true });
        await ChangeAsync("enable", HttpStatusCode.OK, () => provider.PostAsync(keyPath + "/enable", null));
        ledger.Publish(t => t with { Change = "enable", Disabled = false });
    }

    private async Task ExpireThenRenewAsync()
    {
        var subscription = $"/provider/v1/organizations/{org.Id}/subscription";
        var past = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600;
        await ChangeAsync("expire", HttpStatusCode.OK, () => provider.PutAsync(subscription, Scenario.Json(new { enabled = true, expiresAt = past })));
        ledger.Publish(t => t with { Change = "expire", Expired = true });
        await ChangeAsync("renew", HttpStatusCode.OK, () => provider.PutAsync(subscription, Scenario.Json(new { enabled = true, expiresAt = (long?)null })));
        ledger.Publish(t => t with { Change = "renew", Expired = false });
    }

    /// <summary>
    /// Leaves the last truth settled for a moment, then marks the change in flight, sends it, and insists on
    /// the expected answer. Without the pause nearly every request would meet a change in flight and be judged
    /// against two truths; a disable followed at once by its enable could then never be caught.
    /// </summary>
    private async Task<System.Text.Json.JsonElement> ChangeAsync(string what, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
    {
        await Task.Delay(Random.Shared.Next(25, 75));
        ledger.Begin();
        var r = await send();
        var body = await r.Content.ReadAsStringAsync();
        if (r.StatusCode != expected)
            throw new InvalidOperationException($"{what} (change {ledger.Changes + 1}) on node A answered {(int)r.StatusCode}, not {(int)expected}: {body}");
        _done[what] = _done.GetValueOrDefault(what) + 1;
        return body.Length > 0 && r.Content.Headers.ContentType?.MediaType == "application/json"
            ? System.Text.Json.JsonDocument.Parse(body).RootElement.Clone() : default;
    }

    /// <summary>The churn's own session on node A, opened with the current key when the last change ended it.</summary>
    private async Task<string> SessionAsync()
    {
        if (_session is not null) return _session;
        var r = await legacy.LoginAsync(org.Username, org.Password, ledger.Current.Value!, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (r.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"node A refused a login with the current key after change {ledger.Changes}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return _session = Scenario.SessionIdOf(r)!;
    }

    public static HttpRequestMessage WithSession(HttpMethod method, string path, string session)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", "JSESSIONID=" + session);
        return request;
    }
}
